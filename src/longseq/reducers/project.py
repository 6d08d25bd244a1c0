"""Hashing / random projection: shorten n-fold without fitting anything.

Tokens: each non-overlapping n-gram becomes one id among `buckets` (hashing trick). Signals:
each window of `window` steps (all channels) is multiplied by a random Gaussian matrix (never
fitted) down to `dims`. The windows are cut when reducing; the matrix is drawn by each run from
its seed (see `draw`), so seeds differ in it.
"""

from __future__ import annotations

import numpy as np

from ..core.data import Dataset, Split
from ._base import map_splits

OPTIONS = {
    "ngram": {"type": "integer", "minimum": 2, "description": "tokens: one hashed id per n-gram"},
    "buckets": {"type": "integer", "minimum": 2, "description": "tokens: hashed ids"},
    "window": {"type": "integer", "minimum": 1, "description": "signals: steps per projected window"},
    "dims": {
        "type": "integer",
        "minimum": 1,
        "description": "signals: the projection (drawn from the run's seed)",
    },
}
PROJECT_STREAM = 7  # keeps the projection's random stream apart from the sampling streams


def _ngram_ids(seq: np.ndarray, n: int, buckets: int) -> np.ndarray:
    """One id per non-overlapping n-gram: a fixed polynomial hash (no Python hash seeding), so
    the same n-gram gets the same id in every split and every run."""
    usable = max(n, (len(seq) // n) * n)
    grams = np.zeros(usable, dtype=np.int64)
    grams[: min(len(seq), usable)] = seq[:usable]
    grams = grams.reshape(-1, n)
    h = np.zeros(len(grams), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            h = h * np.uint64(1_000_003) + grams[:, j].astype(np.uint64) + np.uint64(1)
    return (h % np.uint64(buckets)).astype(np.int32) + 2  # ids 0/1 stay padding/unknown


def reduce(ds: Dataset, arm: dict) -> Dataset:
    if ds.kind == "tokens":
        n, buckets = arm.get("ngram", 4), arm.get("buckets", 4096)
        out = map_splits(ds, lambda q: _ngram_ids(q, n, buckets))
        out.meta.update(vocab=None, vocab_size=buckets + 2)
        return out
    w, dims = arm.get("window", 10), arm.get("dims", 16)
    channels = ds.n_channels

    def reducer(seq):
        usable = max(w, (len(seq) // w) * w)
        padded = np.zeros((usable, channels), dtype=np.float32)
        padded[: min(len(seq), usable)] = seq[:usable]
        return padded.reshape(-1, w * channels)

    out = map_splits(ds, reducer)
    out.meta["channels"] = [f"proj{j}" for j in range(dims)]
    out.meta["draw"] = {"project": {"dims": dims}}
    return out


def draw(split: Split, spec: dict, seed: int, name: str, epoch: int) -> Split:
    """One projection matrix per run, the same for every split and epoch."""
    rng = np.random.default_rng([seed, PROJECT_STREAM])
    width = split.values.shape[1]
    matrix = rng.normal(0, 1 / np.sqrt(width), (width, spec["dims"]))
    values = (np.asarray(split.values, dtype=np.float64) @ matrix).astype(np.float32)
    return Split(values, split.offsets, split.labels, split.origin)
