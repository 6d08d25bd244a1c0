"""Model and training settings: one dataclass of defaults each, built once from the config.

These defaults are the default study's settings, held here only: whatever a study file leaves
out gets them (config/config.yaml sets none of them; `longseq new-study` writes them out).

No torch here, so the workflow can check every data set x arm's merged settings when it is
parsed, before any job runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .plugins import MODELS  # the model types: the modules of longseq.models, read without torch

MODES = ("bptt", "tbptt", "last_k")
# The budget is per data set: every arm of a data set gets the same one (longseq.study refuses an arm that sets it).
BUDGET_KEYS = ("max_updates", "eval_every", "min_updates", "patience")
SCALINGS = ("standard", "robust", "log", "instance")  # of signals; `auto` picks one per data set


def _setting(default, description: str, **schema):
    """A field with its default, its description and its JSON schema: the config schema's
    section for the class is generated from these (`schema_of`), so each is written once."""
    return field(default=default, metadata={"description": description, "schema": schema})


@dataclass(frozen=True)
class ModelConfig:
    """What every model type takes; a type's own options (its module's `OPTIONS`: hidden size,
    layers, readout, ...) are in `options`, defaults filled in, and read as attributes
    (`cfg.hidden`). A run records only its type's options."""

    type: str = _setting(
        "lstm",
        "the model type, a module of longseq.models (see config/README.md, 'The arms'): lstm (default), "
        "seq2seq, the bag baseline, segments, chunk_encoder, conv_lstm, conv, s4d",
        type="string",
    )
    embedding: int = _setting(32, "tokens: embedding width", type="integer", minimum=1)
    dropout: float = _setting(
        0.1, "dropout before the head (and between stacked LSTM layers)", type="number", minimum=0, maximum=1
    )
    scaling: str = _setting(
        "standard",
        "signals: auto picks one of the others per data set by the valid loss of a short probe on train "
        "(one job per data set, shared by its arms); standard (mean, std), robust (median, IQR) or log "
        "(sign * log1p|x|, then standard) are fitted on train, for readings spanning orders of magnitude; "
        "instance: each record by its own mean and std, before any reduction (fits nothing)",
        enum=["auto", "standard", "robust", "log", "instance"],
    )
    options: dict = field(default_factory=dict)  # the type's own (its module's OPTIONS schema)

    def __getattr__(self, name: str):
        options = self.__dict__.get("options", {})
        if name in options:
            return options[name]
        raise AttributeError(f"model type {self.__dict__.get('type')!r} has no option {name!r}")

    @classmethod
    def from_dict(cls, settings: dict | None) -> ModelConfig:
        """Settings of one type, checked against its options' schema (unknown ones refused)."""
        settings = dict(settings or {})
        shared = cls.shared()
        kind = settings.get("type", cls.type)
        options = MODELS.check(kind, {k: v for k, v in settings.items() if k not in shared})
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
        return set(MODELS.options(kind)) | cls.shared()

    @classmethod
    def inherit(cls, merged: dict, own: dict) -> dict:
        """An arm's model settings from the study-wide and data set ones (`merged`, the arm's own
        included): inherited options its type does not take are dropped (a study-wide `layers`
        does not concern the bag), but each must be some type's; its `own` must all be its type's."""
        known = set().union(*(cls.takes(kind) for kind in MODELS.names()))
        unknown = sorted(set(merged) - known)
        if unknown:  # a typo, not an option of some other type
            raise ValueError(
                f"model settings: unknown {unknown}; no model type takes them (known: {sorted(known)})"
            )
        names = cls.takes(merged.get("type", cls.type))
        return {k: v for k, v in merged.items() if k in names or k in own}


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


@dataclass(frozen=True)
class PretrainConfig:
    """A named pretraining's settings (an entry of the config's `pretrain:`)."""

    objective: str = _setting(
        "autoencoder",
        "autoencoder: reconstruct a window from its summary; next_token: predict each next step "
        "(self-pretraining)",
        enum=["autoencoder", "next_token"],
    )
    encoder: str = _setting(
        "lstm",
        "what is pretrained: lstm (a plain LSTM's embedding or scaling and LSTM) or conv_lstm (the "
        "learned summarizer's front end too, at the study's front-end settings; next_token only)",
        enum=["lstm", "conv_lstm"],
    )
    seed: int | None = _setting(
        None,
        "one pretraining at this seed that every seed of its arms starts from (default: one per seed)",
        type="integer",
        minimum=0,
    )
    window: int = _setting(
        100,
        "pretrain on random windows of this many steps (at least the longest record: whole records)",
        type="integer",
        minimum=2,
    )
    windows_per_record: int = _setting(1, "windows cut from each train record", type="integer", minimum=1)
    target_vocab: int = _setting(
        2000, "tokens: classes the decoder predicts (most frequent + 'rarer')", type="integer", minimum=2
    )
    max_epochs: int = _setting(4, "passes over the train windows", type="integer", minimum=1)
    patience: int = _setting(
        2, "epochs without a lower valid loss before stopping", type="integer", minimum=1
    )
    batch_size: int = _setting(32, "windows per update", type="integer", minimum=1)
    lr: float = _setting(0.003, "Adam's learning rate", type="number", exclusiveMinimum=0)
    grad_clip: float = _setting(1.0, "gradient norm clipped to this", type="number", exclusiveMinimum=0)


# a named pretraining's settings that the study file leaves out (without a seed: the run's)
PRETRAIN_DEFAULTS = {f.name: f.default for f in fields(PretrainConfig) if f.name != "seed"}


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


def check_pretraining(settings: dict) -> None:
    """Refuse a pretraining that cannot train its encoder: only next_token trains a learned
    summarizer's front end (each summary predicts the steps of the next one)."""
    cfg = {**PRETRAIN_DEFAULTS, **settings}
    if cfg["encoder"] != "lstm" and cfg["objective"] != "next_token":
        raise ValueError(
            f"encoder {cfg['encoder']} is pretrained by objective next_token only (each summary "
            f"predicts the steps of the next one), not {cfg['objective']!r}"
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
    where `from_dict` builds the settings). The model's section stays open: a type's own
    options are checked against its module's schema when the study is read."""
    properties = {
        f.name: {**f.metadata["schema"], "description": f.metadata["description"]}
        for f in fields(cls)
        if "schema" in f.metadata
    }
    if cls is ModelConfig:
        return {"type": "object", "description": MODEL_OPTIONS, "properties": properties}
    return {"type": "object", "additionalProperties": False, "properties": properties}


MODEL_OPTIONS = (
    "the settings every model type takes are below; a type's own options (hidden, layers, readout, ...) "
    "are the JSON schema OPTIONS of its module, checked against the arm's type when the workflow is "
    "parsed (config/README.md, 'The arms')"
)
# the config schema's $defs written from the dataclasses, each between its markers
SCHEMA_SECTIONS = {"model": ModelConfig, "train": TrainConfig, "pretraining": PretrainConfig}


def _marker(cls, end: bool = False) -> str:
    which = "end -- generated" if end else "-- generated"
    return f"  # {which} from longseq.core.settings.{cls.__name__} by `python -m longseq.core.settings` --"


def write_schema(path) -> None:
    """Rewrite the `model:`, `train:` and `pretraining:` definitions of the config schema (each
    between its markers) from their dataclasses."""
    import yaml

    text = Path(path).read_text()
    for name, cls in SCHEMA_SECTIONS.items():
        start, end = text.index(_marker(cls)), text.index(_marker(cls, end=True))
        body = yaml.safe_dump({name: schema_of(cls)}, sort_keys=False, width=100, allow_unicode=True)
        block = "".join(f"  {line}\n" for line in body.splitlines())
        text = text[: start + len(_marker(cls)) + 1] + block + text[end:]
    Path(path).write_text(text)


if __name__ == "__main__":
    write_schema(Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml")
