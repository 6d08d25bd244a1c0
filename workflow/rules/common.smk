# What every rule file needs. The study validated (config, sheet, cross-checks), the code digest
# of each step, and the input and params functions several rules share; those of one rule file
# are in inputs/ under its name.

import glob
import json
import os
import re
from pathlib import Path

from snakemake.utils import validate

from longseq import kernels, sources
from longseq.fingerprint import step_digest
from longseq.references import ARM as REFERENCE
from longseq.sheet import load_sheet
from longseq.study import RESAMPLE, Study

# this file's folder: the workflow's own files are found from here, also when longseq is a
# module of another workflow (whose basedir is then that workflow's)
RULES = workflow.current_basedir
validate(config, schema="../schemas/config.schema.yaml")
SHEET = load_sheet(
    config["dataset_sheet"],
    os.path.join(RULES, "..", "schemas", "datasets.schema.yaml"),
)
STUDY = Study(config, SHEET)  # every cross-check of the config and the sheet, before any job
DATASETS, ARMS, SEEDS = STUDY.datasets, STUDY.arms, STUDY.seeds
TUNE, PRETRAIN, PREDICT = STUDY.tune, STUDY.pretrain, STUDY.predict
# `reproducible: portable` pins the CPU kernels of every job (longseq.kernels); a job's
# `kernels` param reruns it when the level changes
KERNELS = config["reproducible"]
os.environ.update(kernels.pinned(KERNELS))

METRICS = "results/metrics/{dataset}/{arm}/seed{seed}.json"
REFERENCE_METRICS = "results/metrics/{dataset}/reference/seed{seed}.json"
REFERENCE_BENCHMARKS = "results/benchmarks/reference/{dataset}/reference/seed{seed}.tsv"
HISTORIES = "results/models/{dataset}/{arm}/seed{seed}/history.json"
TRAIN_BENCHMARKS = "results/benchmarks/train/{dataset}/{arm}/seed{seed}.tsv"

# ---------------------------------------------------------------- the code each step runs
# the package whose code the jobs run: the source beside this workflow, else the installed one
PACKAGE = Path(RULES).parents[1] / "src" / "longseq"
if not PACKAGE.is_dir():
    PACKAGE = Path(sources.__file__).parents[1]


def reducer_module(arm):
    return f"reducers/{config['arms'][arm]['reduce']}.py"


def model_module(dataset, arm):
    return f"models/{STUDY.model_type(dataset, arm)}.py"


def reader_module(dataset):
    return f"sources/{sources.READERS[SHEET[dataset]['reader']].split(':')[0]}.py"


CODE = {
    "ingest": lambda dataset: step_digest(PACKAGE, "sheet.py", "sources/__init__.py", reader_module(dataset)),
    "reduce": lambda arm: step_digest(PACKAGE, "reducers/__init__.py", reducer_module(arm)),
    "pretrain": step_digest(PACKAGE, "pretrain.py", "models/lstm.py"),
    "train": lambda dataset, arm: step_digest(
        PACKAGE, "train.py", reducer_module(arm), model_module(dataset, arm)
    ),
    "evaluate": lambda dataset, arm: step_digest(
        PACKAGE, "evaluate.py", "predict.py", reducer_module(arm), model_module(dataset, arm)
    ),
    "predict": lambda dataset, arm: step_digest(
        PACKAGE,
        "predict.py",
        "sheet.py",
        "sources/__init__.py",
        reducer_module(arm),
        model_module(dataset, arm),
    ),
    "aggregate": step_digest(PACKAGE, "aggregate.py"),
    "figures": step_digest(PACKAGE, "figures.py"),
    "choose": step_digest(PACKAGE, "tuning.py"),
    "scaling": step_digest(PACKAGE, "scaling.py", "models/conv.py"),
    "verdict": step_digest(PACKAGE, "verdict.py"),
}


def train_code(wildcards):
    return CODE["train"](wildcards.dataset, wildcards.arm)


# ---------------------------------------------------------------- shared input and params
def as_json(obj):
    """Params are passed as canonical JSON, so that equal settings compare equal."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


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
    return f"results/ingested/{run_data(wildcards)}"


def get_reduced_data(wildcards):
    return f"results/reduced/{run_data(wildcards)}/{STUDY.reduction_name(wildcards.arm, wildcards.dataset)}"


def get_encoder(wildcards):
    """Each seed of a pretrained arm starts from an encoder pretrained with that seed, or all
    from one, where the pretraining names its own seed."""
    return encoder_path(wildcards.dataset, wildcards.arm, wildcards.seed)


def encoder_path(dataset, arm, seed):
    name = config["arms"][arm].get("pretrain")
    if not name:
        return []
    data = STUDY.data_name(dataset, seed)  # a resample's encoder is pretrained on its own train split
    return f"results/pretrained/{data}/{name}/seed{PRETRAIN[name].get('seed', seed)}/encoder.pt"


def init_encoder_option(wildcards, input):
    return f"--init-encoder {input.encoder}" if input.encoder else ""


def tuned_option(wildcards, input):
    return f"--tuned {input.tuned}" if input.tuned else ""


def scaling_choice_path(data, arm):
    """An arm with `scaling: auto` reads its data's choice (scaling.smk), made on its train split."""
    return f"results/scaling/{data}.json" if STUDY.auto_scaled(STUDY.dataset_of(data)[0], arm) else []


def get_scaling_choice(wildcards):
    return scaling_choice_path(run_data(wildcards), wildcards.arm)


def scaling_option(wildcards, input):
    return f"--scaling {input.scaling}" if input.scaling else ""


def expected_time():
    """The run's jobs and, from the study files' measured job times, how long it should take."""
    from longseq.durations import expected_line

    studies = workflow.overwrite_configfiles or ["config/config.yaml"]
    cores = workflow.cores if workflow.local_exec else None  # a cluster's cores are not these
    return expected_line(workflow.dag.stats()[1], [str(s) for s in studies], cores)


def get_final_output():
    return [
        "results/datasets.csv",
        "results/summary.csv",
        "results/overview.csv",
        "results/accuracy_by_arm.png",
        "results/report/results_table.html",
        "results/report/accuracy_vs_steps.png",
        "results/report/accuracy_vs_cost.png",
        "results/report/learning_curves.png",
        *expand("results/report/confusion/{dataset}.png", dataset=DATASETS),
        "results/verdict/verdict.md",
        "results/verdict/critical_difference.png",
        *(["results/tuning/chosen.csv", "results/report/tuning.png"] if TUNE else []),
        *expand("results/predictions/{name}.csv", name=PREDICT),
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
