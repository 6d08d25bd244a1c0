# What every rule file needs. The study validated (config, sheet, cross-checks), the code digest
# of each step, and the input and params functions several rules share; those of one rule file
# are in inputs/ under its name.

import glob
import json
import os
import re
from pathlib import Path

from snakemake.utils import validate

from longseq import sources, steps
from longseq.core import kernels
from longseq.references import ARM as REFERENCE
from longseq.study import RESAMPLE, Study
from longseq.study.sheet import load_sheet

# this file's folder: the workflow's own files are found from here, also when longseq is a
# module of another workflow (whose basedir is then that workflow's)
RULES = workflow.current_basedir
validate(config, schema="../schemas/config.schema.yaml")
SHEET = load_sheet(config["dataset_sheet"])  # each row checked against its reader's options
STUDY = Study(config, SHEET)  # every cross-check of the config and the sheet, before any job
DATASETS, ARMS, SEEDS = STUDY.datasets, STUDY.arms, STUDY.seeds
TUNE, PRETRAIN, PREDICT = STUDY.tune, STUDY.pretrain, STUDY.predict
# `reproducible: portable` pins the CPU kernels of every job (longseq.core.kernels); a job's
# `kernels` param reruns it when the level changes
KERNELS = config["reproducible"]
os.environ.update(kernels.pinned(KERNELS))


# ---------------------------------------------------------------- the code each step runs
# the package whose code the jobs run: the source beside this workflow, else the installed one
PACKAGE = Path(RULES).parents[1] / "src" / "longseq"
if not PACKAGE.is_dir():
    PACKAGE = Path(sources.__file__).parents[1]


def code(step, **plugins):
    """A step's code digest (longseq.steps): editing what a job runs reruns it, nothing else."""
    return steps.code(step, PACKAGE, **plugins)


def step_code(step):
    """The `code` param of the rules running `step`, as a function of a job's wildcards: the
    step's digest with the plug-ins the job names (reader, reducer, model type, reference)."""

    def digest(wildcards):
        return code(step, **job_plugins(steps.STEPS[step].plugins, wildcards))

    return digest


def job_plugins(kinds, wildcards):
    found = {}
    if "reader" in kinds:
        found["reader"] = SHEET[data_set(wildcards)]["reader"]
    if "reducer" in kinds:  # a reduction names the (arm, data set) whose spec it reduces by
        arm = wildcards.arm if "arm" in wildcards.keys() else STUDY.reductions[wildcards.reduction][0]
        found["reducer"] = config["arms"][arm]["reduce"]
    if "model" in kinds and "pretrain" in wildcards.keys():  # a pretraining names its encoder
        found["model"] = STUDY.encoder_type(wildcards.pretrain)
    elif "model" in kinds:
        found["model"] = STUDY.model_type(wildcards.dataset, wildcards.arm)
    if "reference" in kinds:
        found["reference"] = reference_of(wildcards.dataset)
    return found


def run_plugins(dataset, arm):
    """The plug-ins a trained run of the arm names: its reducer and its model type."""
    return {"reducer": config["arms"][arm]["reduce"], "model": STUDY.model_type(dataset, arm)}


def reference_of(dataset):
    """The reference of the data set's kind (config 'reference:')."""
    return config["reference"][SHEET[dataset]["kind"]]


# ---------------------------------------------------------------- shared input and params
def as_json(obj):
    """Params are passed as canonical JSON, so that equal settings compare equal."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def fill(pattern, **wildcards):
    """One path of a rule's output pattern (`rules.<name>.output`): each path is written once,
    in the rule that writes it."""
    return expand(pattern, **wildcards)[0]


def every_run(pattern, datasets=None):
    """One path per data set x arm x seed (all data sets unless given)."""
    return expand(pattern, dataset=datasets or DATASETS, arm=ARMS, seed=SEEDS)


def references(pattern, datasets=None):
    """One path per data set x seed: the reference's runs."""
    return expand(pattern, dataset=datasets or DATASETS, seed=SEEDS)


def data_set(wildcards):
    """The data set of a job on ingested data (`{data}`): the data itself or one resample of it."""
    return STUDY.dataset_of(wildcards.data)[0]


def run_data(wildcards):
    """The ingested data a run reads: its seed's resample where the data set has them. A
    search's trials (no seed wildcard) read the fixed split: a resampled data set is not searched."""
    seed = wildcards.get("seed")
    return wildcards.dataset if seed is None else STUDY.data_name(wildcards.dataset, seed)


def get_run_data(wildcards):
    return fill(rules.ingested_dataset.output[0], data=run_data(wildcards))


def get_reduced_data(wildcards):
    reduction = STUDY.reduction_name(wildcards.arm, wildcards.dataset)
    return fill(rules.reduced_dataset.output[0], data=run_data(wildcards), reduction=reduction)


def get_encoder(wildcards):
    """Each seed of a pretrained arm starts from an encoder pretrained with that seed, or all
    from one, where the pretraining names its own seed."""
    return encoder_path(wildcards.dataset, wildcards.arm, wildcards.seed)


def encoder_path(dataset, arm, seed):
    name = config["arms"][arm].get("pretrain")
    if not name:
        return []
    data = STUDY.data_name(dataset, seed)  # a resample's encoder is pretrained on its own train split
    return fill(
        rules.pretrained_encoder.output.encoder,
        data=data,
        pretrain=name,
        seed=PRETRAIN[name].get("seed", seed),
    )


def init_encoder_option(wildcards, input):
    return f"--init-encoder {input.encoder}" if input.encoder else ""


def tuned_option(wildcards, input):
    return f"--tuned {input.tuned}" if input.tuned else ""


def scaling_choice_path(data, arm):
    """An arm with `scaling: auto` reads its data's choice (scaling.smk), made on its train split."""
    if not STUDY.auto_scaled(STUDY.dataset_of(data)[0], arm):
        return []
    return fill(rules.chosen_scaling.output[0], data=data)


def get_scaling_choice(wildcards):
    return scaling_choice_path(run_data(wildcards), wildcards.arm)


def scaling_option(wildcards, input):
    return f"--scaling {input.scaling}" if input.scaling else ""


def expected_time():
    """The run's jobs and, from the study files' measured job times, how long it should take."""
    from longseq.report.durations import expected_line

    plan = snakemake_plan()
    if plan is None:
        return "longseq: this Snakemake does not say which jobs it planned; no estimate of the run's time"
    studies, counts, cores = plan
    return expected_line(counts, [str(s) for s in studies], cores)


def snakemake_plan():
    """The study files on the command line, the jobs planned per rule, and the cores when the
    jobs run here (None on a cluster, whose cores are not these). Snakemake 9 has no public API
    for any of the three (snakemake/snakemake#1653), so they are read here and nowhere else;
    tests/test_workflow.py's start-line test fails when Snakemake moves them, and a run then
    goes on without the estimate."""
    try:
        studies = workflow.overwrite_configfiles or ["config/config.yaml"]
        return studies, workflow.dag.stats()[1], workflow.cores if workflow.local_exec else None
    except AttributeError:
        return None


def get_final_output():
    return [
        *rules.dataset_table.output,
        *rules.summary.output,
        *rules.report_figures.output,
        *expand(rules.confusion_matrices.output[0], dataset=DATASETS),
        rules.verdict.output.text,
        rules.verdict.output.figure,
        *(rules.tuning_overview.output if TUNE else []),
        *expand(rules.predictions.output[0], name=PREDICT),
    ]


wildcard_constraints:
    dataset="|".join(DATASETS),
    data=f"(?:{'|'.join(DATASETS)})(?:{re.escape(RESAMPLE)}\\d+)?",
    arm="|".join(ARMS),
    seed=r"\d+",
    trial=r"\d+",
    pretrain="|".join(PRETRAIN) or "(?!)",
    reduction="|".join(map(re.escape, STUDY.reductions)),
    name="|".join(PREDICT) or "(?!)",
