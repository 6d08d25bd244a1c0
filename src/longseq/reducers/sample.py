"""Random sampling: `length` random steps (in order) or one random window of `length`.

`train_copies` samples per training record (augmentation) and `eval_views` per valid/test
record, whose predictions are averaged at evaluation. The samples are drawn by each run (see
`draw`), not when reducing: training draws fresh copies every epoch and the views come from the
run's seed, so seeds differ in what they sample. Drawn once when reducing, every epoch and every
seed would reuse the same copies.
"""

from __future__ import annotations

import numpy as np

from ..core.data import Dataset, Split
from ._base import with_splits

OPTIONS = {
    "mode": {
        "enum": ["timesteps", "window"],
        "description": "distinct steps in order, or one contiguous window",
    },
    "length": {"type": "integer", "minimum": 1, "description": "steps per sample"},
    "train_copies": {
        "type": "integer",
        "minimum": 1,
        "description": "samples per training record, fresh every epoch",
    },
    "eval_views": {
        "type": "integer",
        "minimum": 1,
        "description": "views per valid/test record, drawn from the run's seed",
    },
}
REQUIRED = ["length"]
SPLIT_STREAM = {"train": 0, "valid": 1, "test": 2}


def reduce(ds: Dataset, arm: dict) -> Dataset:
    out = with_splits(ds, dict(ds.splits))
    out.meta["draw"] = {
        "sample": {
            "mode": arm.get("mode", "timesteps"),
            "length": arm["length"],
            "train_copies": arm.get("train_copies", 1),
            "eval_views": arm.get("eval_views", 1),
        }
    }
    return out


def family(arm: dict) -> str:
    return f"sample ({arm.get('mode', 'timesteps')})"


def _sample_one(rng, seq, mode: str, n: int):
    if len(seq) <= n:
        return seq
    if mode == "timesteps":  # n distinct steps, kept in their original order
        return seq[np.sort(rng.choice(len(seq), size=n, replace=False))]
    start = rng.integers(0, len(seq) - n + 1)
    return seq[start : start + n]


def draw(split: Split, spec: dict, seed: int, name: str, epoch: int) -> Split:
    """Sampled copies: train's fresh for every epoch, valid and test views fixed for the run."""
    rng = np.random.default_rng([seed, SPLIT_STREAM[name], epoch if name == "train" else 0])
    copies = spec["train_copies"] if name == "train" else spec["eval_views"]
    seqs, labels, origin = [], [], []
    for i in range(len(split)):
        for _ in range(copies):
            seqs.append(_sample_one(rng, split[i], spec["mode"], spec["length"]))
            labels.append(split.labels[i])
            origin.append(split.origin[i])
    return Split.from_sequences(seqs, labels, origin, dtype=split.values.dtype)
