"""Parallel pieces: cut each sequence into `pieces` contiguous pieces and read them side by side.

T x C becomes ceil(T / pieces) x (pieces * C); tokens become `pieces` parallel token streams
(each step holds one token per piece). The last piece is padded (token 0 / zeros).
"""

from __future__ import annotations

import numpy as np

from ..core.data import Dataset
from ._base import map_splits

OPTIONS = {
    "pieces": {"type": "integer", "minimum": 2, "description": "read k contiguous pieces side by side"}
}
REQUIRED = ["pieces"]


def min_steps(arm: dict) -> int:
    """One step per piece at least."""
    return arm["pieces"]


def reduce(ds: Dataset, arm: dict) -> Dataset:
    k = arm["pieces"]

    def reducer(seq):
        steps = -(-len(seq) // k)
        padded = np.zeros((steps * k,) + seq.shape[1:], dtype=seq.dtype)
        padded[: len(seq)] = seq
        pieces = padded.reshape((k, steps) + seq.shape[1:])  # piece j = steps j*L .. (j+1)*L - 1
        return np.concatenate(list(pieces), axis=-1) if seq.ndim == 2 else pieces.T.copy()

    out = map_splits(ds, reducer)
    out.meta["pieces"] = k
    if ds.kind == "tokens":
        out.meta["streams"] = k
    else:
        out.meta["channels"] = [f"piece{j}:{c}" for j in range(k) for c in ds.meta.get("channels", [])]
    return out
