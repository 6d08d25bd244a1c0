"""Tokens: drop the most frequent tokens (ranks fitted on train); signals: window statistics.

Tokens: drop the `drop_top` most frequent tokens, or keep only ranks in `rank_window` [lo, hi);
a sequence left empty becomes one <unk>. Signals: aggregate non-overlapping windows of `window`
steps with `stats` (channels x stats).
"""

from __future__ import annotations

import numpy as np

from ..core.data import UNK_ID, Dataset, token_ranks
from ._base import map_splits

STATS = {
    "mean": lambda w: w.mean(axis=1),
    "max": lambda w: w.max(axis=1),
    "min": lambda w: w.min(axis=1),
    "std": lambda w: w.std(axis=1),
}
OPTIONS = {
    "drop_top": {
        "type": "integer",
        "minimum": 0,
        "description": "tokens: drop the k most frequent (train ranks)",
    },
    "rank_window": {
        "description": "tokens: keep only ranks in [lo, hi)",
        "type": "array",
        "items": {"type": "integer", "minimum": 0},
        "minItems": 2,
        "maxItems": 2,
    },
    "window": {"type": "integer", "minimum": 1, "description": "signals: aggregate windows of w steps"},
    "stats": {
        "type": "array",
        "items": {"enum": ["mean", "max", "min", "std"]},
        "minItems": 1,
        "uniqueItems": True,
    },
}
assert set(OPTIONS["stats"]["items"]["enum"]) == set(STATS)  # a literal: read from the source (plugins)


def reduce(ds: Dataset, arm: dict) -> Dataset:
    if ds.kind == "tokens":
        # fitted on train once; new records (longseq predict) reuse the stored ranks
        fitted = ds.meta.get("fitted", {}).get("token_ranks")
        ranks = np.asarray(fitted) if fitted is not None else token_ranks(ds.splits["train"], ds.vocab_size)
        lo, hi = arm.get("rank_window", [arm.get("drop_top", 0), ds.vocab_size])
        keep = (ranks >= lo) & (ranks < hi)
        unk = np.array([UNK_ID], dtype=np.int32)

        def reducer(seq):
            kept = seq[keep[seq]]
            return kept if len(kept) else unk

        meta = {"rank_window": [int(lo), int(hi)], "fitted": {"token_ranks": ranks.tolist()}}
    else:
        if "window" not in arm:
            raise ValueError("summarize on signals needs 'window' (steps per aggregated window)")
        w, stats = arm["window"], arm.get("stats", ["mean"])

        def reducer(seq):
            usable = (len(seq) // w) * w
            if usable == 0:  # shorter than one window: one window over what is there
                windows = seq[None]
            else:
                windows = seq[:usable].reshape(usable // w, w, seq.shape[1])
            return np.concatenate([STATS[s](windows) for s in stats], axis=1).astype(np.float32)

        meta = {"channels": [f"{c}:{s}" for s in stats for c in ds.meta.get("channels", [])]}
    out = map_splits(ds, reducer)
    out.meta.update(meta)
    return out
