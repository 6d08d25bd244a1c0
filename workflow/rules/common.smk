import json

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

DATASETS = list(config["datasets"])
ARMS = list(config["arms"])
SEEDS = [int(s) for s in config["seeds"]]
PRETRAIN = config.get("pretrain", {})

for _arm, _spec in config["arms"].items():
    if "pretrain" in _spec and _spec["pretrain"] not in PRETRAIN:
        raise ValueError(
            f"arm {_arm!r} uses pretrain {_spec['pretrain']!r}, which the config's 'pretrain:' "
            f"section does not define (it has {sorted(PRETRAIN)})"
        )


wildcard_constraints:
    dataset="|".join(DATASETS),
    arm="|".join(ARMS),
    seed=r"\d+",
    pretrain="|".join(PRETRAIN) or "(?!)",


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


def _merged(section, wildcards, per_arm=True):
    """Study-wide settings, overridden per data set, then per arm."""
    merged = dict(config.get(section, {}))
    merged.update(config["datasets"][wildcards.dataset].get(section, {}))
    if per_arm:
        merged.update(config["arms"][wildcards.arm].get(section, {}))
    return merged


def encoder_model_settings(wildcards):
    """A pretrained encoder is shared by the arms of a data set: study and data set sizes only."""
    return as_json(_merged("model", wildcards, per_arm=False))


def pretrain_settings(wildcards):
    return as_json(PRETRAIN[wildcards.pretrain])


def pretrained_encoder(wildcards):
    name = config["arms"][wildcards.arm].get("pretrain")
    return f"results/pretrained/{wildcards.dataset}/{name}/encoder.pt" if name else []


def init_encoder_option(wildcards, input):
    return f"--init-encoder {input.encoder}" if input.encoder else ""


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
