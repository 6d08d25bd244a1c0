# longseq: which strategy makes an LSTM work on sequences thousands of steps long?
# Reads like a table of contents; the rules live in workflow/rules, the work in src/longseq.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# cheap or network-bound: on a cluster these run on the submitting machine
localrules:
    all,
    download_archive,
    dataset_table,
    summary,
    report_figures,
    confusion_matrices,
    chosen_trial,
    tuning_overview,
    verdict,


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/reduce.smk"
include: "workflow/rules/tune.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/predict.smk"


rule all:
    input:
        get_final_output(),
