"""Model and training settings: one dataclass of defaults each, built once from the config.

No torch here, so the workflow can check every data set x arm's merged settings when it is
parsed, before any job runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MODES = ("bptt", "tbptt", "last_k")
# The budget is per data set: every arm of a data set gets the same one (see common.smk).
BUDGET_KEYS = ("max_updates", "eval_every", "min_updates", "patience")


@dataclass(frozen=True)
class ModelConfig:
    type: str = "lstm"  # a module of longseq.models: lstm, seq2seq, bag, segments, chunk_encoder
    hidden: int = 64
    embedding: int = 32
    layers: int = 1
    dropout: float = 0.0
    # chrono: forget/input gate biases from the steps the LSTM reads (Tallec & Ollivier 2018),
    # orthogonal recurrent weights; constant: every forget bias = forget_bias
    init: str = "chrono"
    forget_bias: float = 1.0
    # signals: standard (mean, std), robust (median, IQR) or log (sign * log1p |x|, then
    # standard); fitted on the train split only
    scaling: str = "standard"
    chunk: int = 20  # chunk_encoder: steps per summarized window
    freeze: bool = False  # chunk_encoder: keep the (pretrained) encoder fixed
    reverse: str = "alternate"  # segments: read every other piece backwards

    @classmethod
    def from_dict(cls, settings: dict | None) -> "ModelConfig":
        config = cls(**_known(cls, settings or {}, "model"))
        from .models import names  # the model types are the modules of longseq.models

        if config.type not in names():
            raise ValueError(f"model settings: unknown type {config.type!r}; use one of {names()}")
        return config


@dataclass(frozen=True)
class TrainConfig:
    mode: str = "bptt"  # full BPTT; tbptt needs k1 (and k2 >= k1), last_k needs k
    k1: int = 100
    k2: int | None = None  # None: k1
    k: int = 100
    aux_weight: float = 1.0  # tbptt: weight of the chunk-end losses (0: the last step's loss only)
    amp: bool = True  # bfloat16 autocast on CUDA (recorded as the run's precision); CPU: float32
    # the budget, counted in optimiser updates (TBPTT makes one per chunk)
    max_updates: int = 1000
    eval_every: int = 50  # updates between valid evaluations (and checkpoints)
    min_updates: int = 200  # never stopped early before this many updates
    patience: int = 5  # evaluations without a lower valid loss before stopping
    warmup: int = 50  # updates of linear learning-rate warm-up
    schedule: str = "cosine"  # after warm-up: cosine decay to lr / 20 at max_updates, or constant
    batch_size: int = 32
    lr: float = 2e-3
    grad_clip: float = 1.0
    weight_decay: float = 0.0

    @classmethod
    def from_dict(cls, settings: dict | None) -> "TrainConfig":
        config = cls(**_known(cls, settings or {}, "train"))
        check_train(config)
        return config

    @property
    def gradient_window(self) -> int:
        return self.k1 if self.k2 is None else self.k2


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


def as_dict(config) -> dict:
    return asdict(config)
