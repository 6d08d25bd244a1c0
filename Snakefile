# longseq: which strategy makes an LSTM work on sequences thousands of steps long?
# Reads like a table of contents; the rules live in workflow/rules, the work in src/longseq.

import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# Every rule calls `longseq`: the one installed beside the Python that runs Snakemake comes
# first, whatever the caller's PATH (a rule's conda environment, under --sdm conda, still goes
# before it). Jobs on a cluster parse this file again, with the same interpreter.
os.environ.update(PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))


# The default study, unless a --configfile names another: that file is the whole study, not a
# patch on this one. Every study file names its arms, and --config (a patch on whichever study
# runs, reapplied after this file is read) does not, so `config` tells which case this is.
if "arms" not in config:

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
include: "workflow/rules/resources.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/reduce.smk"
include: "workflow/rules/tune.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/predict.smk"


onstart:
    print(expected_time(), file=sys.stderr)


rule all:
    input:
        get_final_output(),
