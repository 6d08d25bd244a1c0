"""Model and training settings: one dataclass of defaults each, built once from the config.

These defaults are the default study's settings, held here only: whatever a study file leaves
out gets them (config/config.yaml sets none of them; `longseq new-study` writes them out).

No torch here, so the workflow can check every data set x arm's merged settings when it is
parsed, before any job runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

MODES = ("bptt", "tbptt", "last_k")
# The budget is per data set: every arm of a data set gets the same one (longseq.study refuses an arm that sets it).
BUDGET_KEYS = ("max_updates", "eval_every", "min_updates", "patience")
SCALINGS = ("standard", "robust", "log", "instance")  # of signals; `auto` picks one per data set


@dataclass(frozen=True)
class ModelConfig:
    """What every model type takes; a type's own options (its module's `OPTIONS`: hidden size,
    layers, readout, ...) are in `options`, defaults filled in, and read as attributes
    (`cfg.hidden`). A run records only its type's options."""

    type: str = "lstm"  # a module of longseq.models: lstm, seq2seq, bag, segments, chunk_encoder, ...
    embedding: int = 32  # tokens: embedding width
    dropout: float = 0.1
    # signals: standard (mean, std), robust (median, IQR) or log (sign * log1p |x|, then
    # standard), fitted on the train split only; instance: each record by its own statistics;
    # auto: the one with the lowest valid loss in a short probe per data set (longseq.scaling)
    scaling: str = "standard"
    options: dict = field(default_factory=dict)

    def __getattr__(self, name: str):
        options = self.__dict__.get("options", {})
        if name in options:
            return options[name]
        raise AttributeError(f"model type {self.__dict__.get('type')!r} has no option {name!r}")

    @classmethod
    def from_dict(cls, settings: dict | None) -> ModelConfig:
        """Settings of one type, checked against its options' schema (unknown ones refused)."""
        from .models._registry import check_options  # the model types: the modules of longseq.models

        settings = dict(settings or {})
        shared = cls.shared()
        kind = settings.get("type", cls.type)
        options = check_options(kind, {k: v for k, v in settings.items() if k not in shared})
        if settings.get("scaling", cls.scaling) not in (*SCALINGS, "auto"):
            raise ValueError(f"model scaling {settings['scaling']!r}: use one of {[*SCALINGS, 'auto']}")
        return cls(**{k: v for k, v in settings.items() if k in shared}, options=options)

    @classmethod
    def shared(cls) -> set[str]:
        """The settings every model type takes (the fields besides `options`)."""
        return {f.name for f in fields(cls)} - {"options"}

    @classmethod
    def takes(cls, kind: str) -> set[str]:
        """Every setting a model type takes: the shared fields and its own options."""
        from .models._registry import takes

        return takes(kind) | cls.shared()

    @classmethod
    def inherit(cls, merged: dict, own: dict) -> dict:
        """An arm's model settings from the study-wide and data set ones (`merged`, the arm's own
        included): inherited options its type does not take are dropped (a study-wide `layers`
        does not concern the bag), but each must be some type's; its `own` must all be its type's."""
        from .models._registry import names as kinds

        known = set().union(*(cls.takes(kind) for kind in kinds()))
        unknown = sorted(set(merged) - known)
        if unknown:  # a typo, not an option of some other type
            raise ValueError(
                f"model settings: unknown {unknown}; no model type takes them (known: {sorted(known)})"
            )
        names = cls.takes(merged.get("type", cls.type))
        return {k: v for k, v in merged.items() if k in names or k in own}


def _setting(default, description: str, **schema):
    """A field with its default, its description and its JSON schema: the config schema's
    section for the class is generated from these (`schema_of`), so each is written once."""
    return field(default=default, metadata={"description": description, "schema": schema})


@dataclass(frozen=True)
class TrainConfig:
    mode: str = _setting(
        "bptt",
        "bptt: full backpropagation through time; tbptt: read in chunks of k1 steps, a loss at every "
        "chunk end, gradients back at most k2 steps; last_k: gradients through the last k steps only",
        enum=list(MODES),
    )
    k1: int = _setting(100, "tbptt: chunk length in steps", type="integer", minimum=1)
    k2: int | None = _setting(None, "tbptt: gradient window, >= k1 (default k1)", type="integer", minimum=1)
    k: int = _setting(100, "last_k: the steps that get gradients", type="integer", minimum=1)
    aux_weight: float = _setting(
        1.0,
        "tbptt: weight of the chunk-end losses; 0 = the loss at the last step only",
        type="number",
        minimum=0,
    )
    amp: bool = _setting(
        True,
        "bfloat16 autocast on CUDA, recorded as the run's precision (CPU runs stay float32)",
        type="boolean",
    )
    max_updates: int = _setting(
        600,
        "the budget in optimiser updates (TBPTT makes one per chunk); the same for every arm of a data set",
        type="integer",
        minimum=1,
    )
    eval_every: int = _setting(
        50, "updates between valid evaluations (and checkpoints)", type="integer", minimum=1
    )
    min_updates: int = _setting(200, "never stop early before this many updates", type="integer", minimum=0)
    patience: int = _setting(
        4, "evaluations without a lower valid loss before stopping", type="integer", minimum=1
    )
    warmup: int = _setting(50, "updates of linear learning-rate warm-up", type="integer", minimum=1)
    schedule: str = _setting(
        "cosine",
        "after warm-up: cosine decay to lr / 20 at max_updates, or constant",
        enum=["cosine", "constant"],
    )
    batch_size: int = _setting(32, "records per update", type="integer", minimum=1)
    lr: float = _setting(3e-3, "Adam's learning rate after warm-up", type="number", exclusiveMinimum=0)
    grad_clip: float = _setting(1.0, "gradient norm clipped to this", type="number", exclusiveMinimum=0)
    weight_decay: float = _setting(0.0, "Adam's L2 weight decay", type="number", minimum=0)

    @classmethod
    def from_dict(cls, settings: dict | None) -> TrainConfig:
        config = cls(**_known(cls, settings or {}, "train"))
        check_train(config)
        return config

    @property
    def gradient_window(self) -> int:
        return self.k1 if self.k2 is None else self.k2


PRETRAIN_DEFAULTS = {  # a named pretraining's settings that the study file leaves out
    "objective": "autoencoder",
    "window": 100,
    "windows_per_record": 1,
    "target_vocab": 2000,
    "max_epochs": 4,
    "patience": 2,
    "batch_size": 32,
    "lr": 0.003,
    "grad_clip": 1.0,
}


def _known(cls, settings: dict, section: str) -> dict:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise ValueError(f"{section} settings: unknown {unknown}; known are {sorted(names)}")
    return dict(settings)


def check_train(config: TrainConfig) -> None:
    """Refuse settings that cannot mean what they say."""
    if config.mode not in MODES:
        raise ValueError(f"unknown training mode {config.mode!r}; use one of {MODES}")
    if config.mode == "tbptt" and config.gradient_window < config.k1:
        # Then steps at the start of a chunk would get no gradient from any loss, and a
        # sequence ending there would have its loss outside the gradient window.
        raise ValueError(
            f"tbptt: k2 ({config.k2}) < k1 ({config.k1}) is not supported; set k2 >= k1 "
            "(gradients reach back k2 steps from each chunk end)"
        )
    if config.min_updates > config.max_updates:
        raise ValueError(
            f"train: min_updates ({config.min_updates}) exceeds max_updates ({config.max_updates})"
        )
    if config.schedule not in ("cosine", "constant"):
        raise ValueError(f"train: schedule {config.schedule!r}; use cosine or constant")


def check_run(model: ModelConfig, train: TrainConfig) -> None:
    """Refuse model and training settings that cannot go together: a learned summarizer reads
    raw steps in multiples of its stride, so TBPTT's chunks must be such multiples."""
    stride = model.options.get("stride", 1)
    if train.mode == "tbptt" and (train.k1 % stride or train.gradient_window % stride):
        raise ValueError(
            f"tbptt: k1 ({train.k1}) and k2 ({train.gradient_window}) count raw steps and must be "
            f"multiples of the model's stride {stride}"
        )


def as_dict(config) -> dict:
    """The settings as one flat dict (a model's own options beside the shared ones), which
    `from_dict` reads back."""
    settings = asdict(config)
    options = settings.pop("options", {})
    return {**settings, **options}


def schema_of(cls) -> dict:
    """The JSON schema of a settings dataclass's section of the study config: its fields, each
    with its own schema and description. No defaults: Snakemake's validation would write them
    into every arm's section, and an arm that sets the budget is refused (the defaults apply
    where `from_dict` builds the settings)."""
    properties = {
        f.name: {**f.metadata["schema"], "description": f.metadata["description"]} for f in fields(cls)
    }
    return {"type": "object", "additionalProperties": False, "properties": properties}


GENERATED = "  # -- generated from longseq.settings.TrainConfig by `python -m longseq.settings` --"


def write_schema(path) -> None:
    """Rewrite the `train:` definition of the config schema (between its markers) from TrainConfig."""
    import yaml

    text = Path(path).read_text()
    start, end = text.index(GENERATED), text.index(GENERATED.replace("--", "end --", 1))
    body = yaml.safe_dump({"train": schema_of(TrainConfig)}, sort_keys=False, width=100, allow_unicode=True)
    block = "".join(f"  {line}\n" for line in body.splitlines())
    Path(path).write_text(text[: start + len(GENERATED) + 1] + block + text[end:])


if __name__ == "__main__":
    write_schema(Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml")
