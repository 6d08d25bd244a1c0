import json

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

DATASETS = list(config["datasets"])
ARMS = list(config["arms"])
SEEDS = [int(s) for s in config["seeds"]]


wildcard_constraints:
    dataset="|".join(DATASETS),
    arm="|".join(ARMS),
    seed=r"\d+",


def get_final_output():
    return [
        "results/summary.csv",
        "results/overview.csv",
        "results/accuracy_by_arm.png",
    ]


def as_json(obj):
    """Params are passed as canonical JSON, so that equal settings compare equal."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def dataset_spec(wildcards):
    return as_json(config["datasets"][wildcards.dataset])


def ingest_inputs(wildcards):
    """A data set built from a downloaded archive waits for its download rule."""
    spec = config["datasets"][wildcards.dataset]
    return [spec["archive"]] if "archive" in spec and "fetch" in spec else []


def fetch_requirement(wildcards, output):
    for spec in config["datasets"].values():
        if spec.get("archive") == output[0] and "fetch" in spec:
            return spec["fetch"]
    raise ValueError(f"no data set fetches {output[0]}")


def fetch_sha256(wildcards, output):
    for spec in config["datasets"].values():
        if spec.get("archive") == output[0]:
            return spec["sha256"]


def reduce_spec(wildcards):
    """The arm's reduction only: editing its model or training settings must not re-reduce."""
    arm = config["arms"][wildcards.arm]
    return as_json({k: v for k, v in arm.items() if k not in ("model", "train")})


def arm_spec(wildcards):
    return as_json(config["arms"][wildcards.arm])


def _merged(section, wildcards):
    """Study-wide settings, overridden per data set, then per arm."""
    merged = dict(config.get(section, {}))
    merged.update(config["datasets"][wildcards.dataset].get(section, {}))
    merged.update(config["arms"][wildcards.arm].get(section, {}))
    return merged


def model_settings(wildcards):
    return as_json(_merged("model", wildcards))


def train_settings(wildcards):
    return as_json(_merged("train", wildcards))


def checkpoint_path(wildcards):
    """Not an output: Snakemake would delete it before a retry, which must resume from it."""
    return f"results/checkpoints/{wildcards.dataset}/{wildcards.arm}/seed{wildcards.seed}.pt"


def all_metrics():
    return expand(
        "results/metrics/{dataset}/{arm}/seed{seed}.json",
        dataset=DATASETS,
        arm=ARMS,
        seed=SEEDS,
    )
