import glob
import json
import os
import re
from pathlib import Path

from snakemake.utils import validate

from longseq import kernels, reducers, sources, tuning
from longseq.fingerprint import step_digest
from longseq.references import ARM as REFERENCE
from longseq.settings import BUDGET_KEYS, ModelConfig, TrainConfig, as_dict, check_run
from longseq.sheet import load_sheet

# this file's folder: the workflow's own files are found from here, also when longseq is a
# module of another workflow (whose basedir is then that workflow's)
RULES = workflow.current_basedir
validate(config, schema="../schemas/config.schema.yaml")
SHEET = load_sheet(
    config["dataset_sheet"],
    os.path.join(RULES, "..", "schemas", "datasets.schema.yaml"),
)

DATASETS = list(SHEET)
ARMS = list(config["arms"])
if REFERENCE in ARMS:
    raise ValueError(
        f"config arms: {REFERENCE!r} names the study's reference runs; give the arm another name"
    )
SEEDS = [int(s) for s in config["seeds"]]
# `reproducible: portable` pins the CPU kernels of every job (longseq.kernels); a job's
# `kernels` param reruns it when the level changes
KERNELS = config["reproducible"]
os.environ.update(kernels.pinned(KERNELS))
PRETRAIN = config.get("pretrain", {})

for _name in config.get("datasets", {}):
    if _name not in SHEET:
        raise ValueError(
            f"config 'datasets:' has settings for {_name!r}, which is not a row of "
            f"{config['dataset_sheet']} (it has {DATASETS})"
        )

for _arm, _spec in config["arms"].items():
    reducers.check_arm(_spec, f"config arm {_arm!r}")
    if "pretrain" in _spec and _spec["pretrain"] not in PRETRAIN:
        raise ValueError(
            f"arm {_arm!r} uses pretrain {_spec['pretrain']!r}, which the config's 'pretrain:' "
            f"section does not define (it has {sorted(PRETRAIN)})"
        )


for _arm, _spec in config["arms"].items():
    _budget = sorted(set(_spec.get("train", {})) & set(BUDGET_KEYS))
    if _budget:
        raise ValueError(
            f"arm {_arm!r} sets {_budget} in its train settings; the budget is the same for every "
            "arm of a data set, so set it study-wide ('train:') or per data set ('datasets:')"
        )


def _settings(section, dataset, arm):
    """Study-wide settings, overridden per data set, then per arm. Model options that an arm's
    type does not take are dropped unless the arm sets them itself (then they are refused)."""
    merged = dict(config.get(section, {}))
    merged.update(config.get("datasets", {}).get(dataset, {}).get(section, {}))
    own = config["arms"][arm].get(section, {})
    merged.update(own)
    return ModelConfig.inherit(merged, own) if section == "model" else merged


def _model_options(arm):
    """The model settings the arm's type takes (what a search may vary)."""
    return ModelConfig.takes(_settings("model", DATASETS[0], arm).get("type", ModelConfig.type))


for _dataset in DATASETS:  # every run's settings checked before any job starts
    for _arm in ARMS:
        try:
            check_run(
                ModelConfig.from_dict(_settings("model", _dataset, _arm)),
                TrainConfig.from_dict(_settings("train", _dataset, _arm)),
            )
        except ValueError as exc:
            raise ValueError(f"data set {_dataset!r}, arm {_arm!r}: {exc}") from None


def merged_settings(dataset, arm, params):
    """Every setting of one run with a trial's overrides (the dataclass defaults filled in)."""
    return {
        "model": as_dict(
            ModelConfig.from_dict(tuning.apply(_settings("model", dataset, arm), params, "model"))
        ),
        "train": as_dict(
            TrainConfig.from_dict(tuning.apply(_settings("train", dataset, arm), params, "train"))
        ),
        "reduce": tuning.apply(config["arms"][arm], params, "reduce"),
    }


# ---------------------------------------------------------------- the search (config 'tune:')
TUNE = config.get("tune")
TRIALS = {}  # arm -> every trial's overrides ({} for trial 0, the untuned settings)
SPACES = {}  # arm -> its search space (Optuna distributions)
UNTUNED = {}  # (data set, arm) -> trial 0's values of the searched settings
if TUNE:
    if TUNE["train_seed"] in SEEDS:
        raise ValueError(
            f"tune: train_seed {TUNE['train_seed']} is also one of the study's seeds {SEEDS}; trials "
            "must train at a seed no final run uses, or that run repeats the trial chosen on valid"
        )
    for _arm in ARMS:
        _space = SPACES[_arm] = tuning.arm_space(TUNE, _arm, _model_options(_arm))
        if "instance" in getattr(_space.get("model.scaling"), "choices", ()):
            raise ValueError(
                f"tune: arm {_arm!r} searches model.scaling over 'instance', which scales records before "
                "they are reduced; give instance scaling an arm of its own instead"
            )
        _budget = sorted({n.split(".", 1)[1] for n in _space if n.startswith("train.")} & set(BUDGET_KEYS))
        if _budget:
            raise ValueError(
                f"tune: {_budget} is the budget, the same for every trial and arm; not a setting to search"
            )
        TRIALS[_arm] = tuning.draw_trials(TUNE, _arm, _model_options(_arm))
        for _dataset in DATASETS:
            for _number, _params in enumerate(TRIALS[_arm]):
                try:
                    _merged = merged_settings(_dataset, _arm, _params)
                    if _number == 0:
                        UNTUNED[_dataset, _arm] = tuning.untuned_values(_space, _merged)
                except ValueError as exc:
                    raise ValueError(f"data set {_dataset!r}, arm {_arm!r}, trial {_number}: {exc}") from None


def tunes_reduction(arm):
    return any(name.startswith("reduce.") for name in SPACES.get(arm, {}))


# the package whose code the jobs run: the source beside this workflow, else the installed one
PACKAGE = Path(RULES).parents[1] / "src" / "longseq"
if not PACKAGE.is_dir():
    PACKAGE = Path(sources.__file__).parents[1]


def reducer_module(arm):
    return f"reducers/{config['arms'][arm]['reduce']}.py"


def model_module(dataset, arm):
    return f"models/{ModelConfig.from_dict(_settings('model', dataset, arm)).type}.py"


def reader_module(dataset):
    file = sources.READERS[SHEET[dataset]["reader"]].split(":")[0]
    return f"sources/{file}.py"


CODE = {
    "ingest": lambda dataset: step_digest(PACKAGE, "sheet.py", "sources/__init__.py", reader_module(dataset)),
    "reduce": lambda arm: step_digest(PACKAGE, "reducers/__init__.py", reducer_module(arm)),
    "pretrain": step_digest(PACKAGE, "pretrain.py", "models/lstm.py"),
    "train": lambda dataset, arm: step_digest(
        PACKAGE, "train.py", "pretrain.py", reducer_module(arm), model_module(dataset, arm)
    ),
    "evaluate": lambda dataset, arm: step_digest(
        PACKAGE, "evaluate.py", "predict.py", "train.py", reducer_module(arm), model_module(dataset, arm)
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
    "verdict": step_digest(PACKAGE, "verdict.py"),
}


def ingest_code(wildcards):
    return CODE["ingest"](wildcards.dataset)


def train_code(wildcards):
    return CODE["train"](wildcards.dataset, wildcards.arm)


def evaluate_code(wildcards):
    return CODE["evaluate"](wildcards.dataset, wildcards.arm)


PREDICT = config.get("predict", {})  # name -> which trained run labels which new records
for _name, _job in PREDICT.items():
    if (
        _job["dataset"] not in SHEET
        or _job["arm"] not in ARMS + [REFERENCE]
        or int(_job["seed"]) not in SEEDS
    ):
        raise ValueError(
            f"predict {_name!r}: dataset {_job['dataset']!r}, arm {_job['arm']!r}, seed {_job['seed']} "
            f"is not a run of this study (data sets {DATASETS}, arms {ARMS}, seeds {SEEDS})"
        )


def predict_model(wildcards):
    job = PREDICT[wildcards.name]
    if job["arm"] == REFERENCE:
        return f"results/references/{job['dataset']}/seed{job['seed']}.npz"
    return f"results/models/{job['dataset']}/{job['arm']}/seed{job['seed']}/model.pt"


def predict_records(wildcards):
    """The new records' files, so that a changed file reruns its predictions."""
    spec = PREDICT[wildcards.name]["records"]
    return sorted(glob.glob(spec["path"])) if "path" in spec else []


def predict_spec(wildcards):
    return as_json(PREDICT[wildcards.name]["records"])


def predict_code(wildcards):
    job = PREDICT[wildcards.name]
    if job["arm"] == REFERENCE:
        return step_digest(PACKAGE, "predict.py", "references/__init__.py")
    return CODE["predict"](job["dataset"], job["arm"])


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


def as_json(obj):
    """Params are passed as canonical JSON, so that equal settings compare equal."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def dataset_spec(wildcards):
    """The data set's sheet row only: training settings do not reach the ingest job."""
    return as_json(SHEET[wildcards.dataset])


def ingest_inputs(wildcards):
    """The files a data set is read from, so that a download comes first and an edited
    file reruns its data set (a glob counts every file it matches)."""
    spec = SHEET[wildcards.dataset]
    files = [spec[k] for k in ("train_file", "test_file", "labels") if k in spec]
    if "path" in spec:
        files += [spec["path"]] if "fetch" in spec else sorted(glob.glob(spec["path"]))
    return files


def _fetched(output):
    for spec in SHEET.values():
        if spec.get("path") == output[0] and "fetch" in spec:
            return spec
    raise ValueError(f"no data set in {config['dataset_sheet']} fetches {output[0]}")


def fetch_recipe(wildcards, output):
    return _fetched(output)["fetch"]


def fetch_sha256(wildcards, output):
    return _fetched(output)["sha256"]


def _reduction(arm, dataset):
    """The arm's reduction only: editing its model, training or pretraining must not re-reduce.
    With `scaling: instance` each record is scaled by its own statistics before it is reduced
    (a view keeps its record's scaling), so that is part of the reduction."""
    spec = {k: v for k, v in config["arms"][arm].items() if k not in ("model", "train", "pretrain")}
    if _settings("model", dataset, arm).get("scaling") == "instance":
        spec["model"] = {"scaling": "instance"}
    return spec


def _flat(value):
    return "+".join(map(str, value)) if isinstance(value, list) else str(value)


def reduction_name(arm, dataset):
    """Arms whose reductions are identical share one reduced folder, named after what it holds
    (every 'reduce: full' arm reads results/reduced/<ds>/full); an arm whose reduction is
    searched has its own, since its chosen trial is its own."""
    spec = _reduction(arm, dataset)
    scaled = "_instance" if "model" in spec else ""
    if tunes_reduction(arm):
        return f"{arm}-tuned{scaled}"
    options = [f"{k}-{_flat(v)}" for k, v in sorted(spec.items()) if k not in ("reduce", "model")]
    return "_".join([spec["reduce"]] + options) + scaled


# name -> the first (arm, data set) that uses it
REDUCTIONS = {reduction_name(arm, ds): (arm, ds) for ds in DATASETS for arm in ARMS}


def reduced_data(wildcards):
    return f"results/reduced/{wildcards.dataset}/{reduction_name(wildcards.arm, wildcards.dataset)}"


def reduce_spec(wildcards):
    return as_json(_reduction(*REDUCTIONS[wildcards.reduction]))


def reduce_code(wildcards):
    return CODE["reduce"](REDUCTIONS[wildcards.reduction][0])


def chosen_reduction(wildcards):
    """A searched reduction takes its arm's chosen trial's reduce.* settings."""
    arm = REDUCTIONS[wildcards.reduction][0]
    return f"results/tuning/{wildcards.dataset}/{arm}/chosen.json" if tunes_reduction(arm) else []


def chosen_settings(wildcards):
    """With a search, the final runs of an arm take its chosen trial's settings."""
    return f"results/tuning/{wildcards.dataset}/{wildcards.arm}/chosen.json" if TUNE else []


def tuned_option(wildcards, input):
    return f"--tuned {input.tuned}" if input.tuned else ""


def trial_overrides(wildcards) -> dict:
    return TRIALS[wildcards.arm][int(wildcards.trial)]


def trial_reduce_code(wildcards):
    return CODE["reduce"](wildcards.arm)


def trial_reduce_spec(wildcards):
    spec = _reduction(wildcards.arm, wildcards.dataset)
    return as_json(tuning.apply(spec, trial_overrides(wildcards), "reduce"))


def trial_data(wildcards):
    """A trial reads the arm's own reduction unless the search varies it."""
    if tunes_reduction(wildcards.arm):
        return f"results/tuning/{wildcards.dataset}/{wildcards.arm}/trial{wildcards.trial}/reduced"
    return reduced_data(wildcards)


def _trial_settings(section, wildcards):
    settings = _settings(section, wildcards.dataset, wildcards.arm)
    return as_json(tuning.apply(settings, trial_overrides(wildcards), section))


def trial_model_settings(wildcards):
    return _trial_settings("model", wildcards)


def trial_train_settings(wildcards):
    return _trial_settings("train", wildcards)


def trial_encoder(wildcards):
    """Trials start from the encoder pretrained at the trials' seed."""
    return encoder_path(wildcards.dataset, wildcards.arm, TUNE["train_seed"])


def trial_histories(wildcards):
    return expand(
        "results/tuning/{dataset}/{arm}/trial{trial}/history.json",
        dataset=wildcards.dataset,
        arm=wildcards.arm,
        trial=range(len(TRIALS[wildcards.arm])),
    )


def search_space(wildcards):
    return as_json(tuning.arm_space_config(TUNE, wildcards.arm, _model_options(wildcards.arm)))


def trial_records(wildcards):
    """Every trial's values of the searched settings, trial 0's read from the untuned run."""
    return as_json([UNTUNED[wildcards.dataset, wildcards.arm]] + TRIALS[wildcards.arm][1:])


def arm_spec(wildcards):
    return as_json(config["arms"][wildcards.arm])


def encoder_model_settings(wildcards):
    """A pretrained encoder is shared by the arms of a data set: study and data set sizes only."""
    merged = dict(config.get("model", {}))
    merged.update(config.get("datasets", {}).get(wildcards.dataset, {}).get("model", {}))
    return as_json(merged)


def pretrain_settings(wildcards):
    return as_json(PRETRAIN[wildcards.pretrain])


def encoder_path(dataset, arm, seed):
    name = config["arms"][arm].get("pretrain")
    return f"results/pretrained/{dataset}/{name}/seed{seed}/encoder.pt" if name else []


def pretrained_encoder(wildcards):
    """Each seed of a pretrained arm starts from an encoder pretrained with that seed."""
    return encoder_path(wildcards.dataset, wildcards.arm, wildcards.seed)


def init_encoder_option(wildcards, input):
    return f"--init-encoder {input.encoder}" if input.encoder else ""


def model_settings(wildcards):
    return as_json(_settings("model", wildcards.dataset, wildcards.arm))


def train_settings(wildcards):
    return as_json(_settings("train", wildcards.dataset, wildcards.arm))


def checkpoint_path(wildcards):
    """Not an output: Snakemake would delete it before a retry, which must resume from it."""
    return f"results/checkpoints/{wildcards.dataset}/{wildcards.arm}/seed{wildcards.seed}.pt"


def _folder_mb(path):
    """What a file or a folder holds, in MB (0 before it exists)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else 0


def input_disk_mb(wildcards, input):
    """Scratch for a job: twice what its inputs hold, at least 1 GB. Snakemake's own default
    sizes a directory() input as its inode (4 KB), whatever the folder holds."""
    return max(1000, int(2 * sum(_folder_mb(path) for path in input)))


def train_mem_mb(wildcards, input, attempt):
    """PyTorch's ~400 MB plus room for the data; a retry after running out asks for more."""
    return int((1500 + 8 * _folder_mb(input.data)) * attempt)


def train_runtime(wildcards, attempt):
    """Minutes; a job killed for time restarts from its checkpoint with twice the time."""
    return 60 * 2 ** (attempt - 1)


METRICS = "results/metrics/{dataset}/{arm}/seed{seed}.json"
REFERENCE_METRICS = "results/metrics/{dataset}/reference/seed{seed}.json"
REFERENCE_BENCHMARKS = "results/benchmarks/reference/{dataset}/reference/seed{seed}.tsv"
HISTORIES = "results/models/{dataset}/{arm}/seed{seed}/history.json"
TRAIN_BENCHMARKS = "results/benchmarks/train/{dataset}/{arm}/seed{seed}.tsv"


def every_run(pattern, datasets=None):
    """One path per data set x arm x seed (all data sets unless given)."""
    return expand(pattern, dataset=datasets or DATASETS, arm=ARMS, seed=SEEDS)


def references(pattern, datasets=None):
    """One path per data set x seed: the reference's runs."""
    return expand(pattern, dataset=datasets or DATASETS, seed=SEEDS)


def dataset_metrics(wildcards):
    return every_run(METRICS, [wildcards.dataset]) + references(REFERENCE_METRICS, [wildcards.dataset])


def reference_method(wildcards):
    """The reference of the data set's kind (config 'reference:')."""
    return config["reference"][SHEET[wildcards.dataset]["kind"]]


def reference_code(wildcards):
    return step_digest(PACKAGE, "references/__init__.py", f"references/{reference_method(wildcards)}.py")


wildcard_constraints:
    dataset="|".join(DATASETS),
    arm="|".join(ARMS),
    seed=r"\d+",
    trial=r"\d+",
    pretrain="|".join(PRETRAIN) or "(?!)",
    reduction="|".join(map(re.escape, REDUCTIONS)),
    name="|".join(PREDICT) or "(?!)",
