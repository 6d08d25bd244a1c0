"""Length-reduction strategies: each arm turns a long data set into what its LSTM reads.

A reducer maps a `Dataset` to a `Dataset` of the same kind and classes. Anything fitted (token
frequency ranks) is fitted on the train split only, then applied to every split. Random
reductions (sampling, projection) are drawn by each run from its seed (`draw`), so that seeds
differ in them too and training sees fresh samples every epoch.
Rows keep their `origin`, so augmented copies and evaluation views can be traced back to the
record they came from (evaluation averages predictions over a record's views).
"""

from __future__ import annotations

import numpy as np

from .data import UNK_ID, DataError, Dataset, Split

SPLIT_STREAM = {"train": 0, "valid": 1, "test": 2}
STATS = {
    "mean": lambda w: w.mean(axis=1),
    "max": lambda w: w.max(axis=1),
    "min": lambda w: w.min(axis=1),
    "std": lambda w: w.std(axis=1),
}


def _map_rows(split: Split, fn) -> Split:
    """Apply a per-sequence function, keeping labels and origins."""
    return Split.from_sequences([fn(seq) for seq in split], split.labels, split.origin)


def full(ds: Dataset, arm: dict) -> Dataset:
    return ds


def truncate(ds: Dataset, arm: dict) -> Dataset:
    """Keep the first or the last `length` steps (Keras keeps the last by default; here the
    choice is explicit and recorded with the arm)."""
    n, keep = arm["length"], arm["keep"]
    if keep not in ("first", "last"):
        raise ValueError(f"truncate: keep must be 'first' or 'last', not {keep!r}")
    cut = (lambda s: s[:n]) if keep == "first" else (lambda s: s[-n:])
    return _with_splits(ds, {name: _map_rows(split, cut) for name, split in ds.splits.items()})


def token_ranks(train: Split, vocab_size: int) -> np.ndarray:
    """rank[token id] = 0 for the most frequent token in the train split, 1 for the next, ..."""
    counts = np.bincount(np.asarray(train.values), minlength=vocab_size)
    order = np.lexsort((np.arange(vocab_size), -counts))  # by count desc, ties by id
    ranks = np.empty(vocab_size, dtype=np.int64)
    ranks[order] = np.arange(vocab_size)
    return ranks


def summarize(ds: Dataset, arm: dict) -> Dataset:
    """Tokens: drop the `drop_top` most frequent tokens, or keep only ranks in `rank_window`
    [lo, hi), with ranks fitted on train; a sequence left empty becomes one <unk>.
    Signals: aggregate non-overlapping windows of `window` steps with `stats` (channels x stats)."""
    if ds.kind == "tokens":
        ranks = token_ranks(ds.splits["train"], ds.vocab_size)
        lo, hi = arm.get("rank_window", [arm.get("drop_top", 0), ds.vocab_size])
        keep = (ranks >= lo) & (ranks < hi)
        unk = np.array([UNK_ID], dtype=np.int32)

        def reducer(seq):
            kept = seq[keep[seq]]
            return kept if len(kept) else unk

        meta = {"rank_window": [int(lo), int(hi)]}
    else:
        w, stats = arm["window"], arm.get("stats", ["mean"])

        def reducer(seq):
            usable = (len(seq) // w) * w
            if usable == 0:  # shorter than one window: one window over what is there
                windows = seq[None]
            else:
                windows = seq[:usable].reshape(usable // w, w, seq.shape[1])
            return np.concatenate([STATS[s](windows) for s in stats], axis=1).astype(np.float32)

        meta = {"channels": [f"{c}:{s}" for s in stats for c in ds.meta.get("channels", [])]}
    out = _with_splits(ds, {name: _map_rows(split, reducer) for name, split in ds.splits.items()})
    out.meta.update(meta)
    return out


def _sample_one(rng, seq, mode: str, n: int):
    if len(seq) <= n:
        return seq
    if mode == "timesteps":  # n distinct steps, kept in their original order
        return seq[np.sort(rng.choice(len(seq), size=n, replace=False))]
    start = rng.integers(0, len(seq) - n + 1)
    return seq[start : start + n]


def sample(ds: Dataset, arm: dict) -> Dataset:
    """`length` random timesteps (in order) or one random contiguous window of `length`;
    `train_copies` samples per training record (augmentation) and `eval_views` per valid/test
    record, whose predictions are averaged at evaluation.

    The samples are drawn by each run (see `draw`), not here: training draws fresh copies
    every epoch and the views come from the run's seed, so seeds differ in what they sample.
    Drawn once here, every epoch and every seed would reuse the same copies."""
    mode = arm.get("mode", "timesteps")
    if mode not in ("timesteps", "window"):
        raise ValueError(f"sample: mode must be 'timesteps' or 'window', not {mode!r}")
    out = _with_splits(ds, dict(ds.splits))
    out.meta["draw"] = {
        "sample": {
            "mode": mode,
            "length": arm["length"],
            "train_copies": arm.get("train_copies", 1),
            "eval_views": arm.get("eval_views", 1),
        }
    }
    return out


def parallel(ds: Dataset, arm: dict) -> Dataset:
    """Cut each sequence into `pieces` contiguous pieces of equal length and read them side by
    side: T x C becomes ceil(T / pieces) x (pieces * C); tokens become `pieces` parallel token
    streams (each step holds one token per piece). The last piece is padded (token 0 / zeros)."""
    k = arm["pieces"]

    def reducer(seq):
        steps = -(-len(seq) // k)
        padded = np.zeros((steps * k,) + seq.shape[1:], dtype=seq.dtype)
        padded[: len(seq)] = seq
        pieces = padded.reshape((k, steps) + seq.shape[1:])  # piece j = steps j*L .. (j+1)*L - 1
        return np.concatenate(list(pieces), axis=-1) if seq.ndim == 2 else pieces.T.copy()

    out = _with_splits(ds, {name: _map_rows(split, reducer) for name, split in ds.splits.items()})
    out.meta["pieces"] = k
    if ds.kind == "tokens":
        out.meta["streams"] = k
    else:
        out.meta["channels"] = [f"piece{j}:{c}" for j in range(k) for c in ds.meta.get("channels", [])]
    return out


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


def project(ds: Dataset, arm: dict) -> Dataset:
    """Shorten n-fold by hashing/projection. Tokens: each non-overlapping n-gram becomes one id
    among `buckets` (hashing trick). Signals: each window of `window` steps (all channels) is
    multiplied by a random Gaussian matrix (never fitted) down to `dims`. The windows are cut
    here; the matrix is drawn by each run from its seed (see `draw`), so seeds differ in it."""
    if ds.kind == "tokens":
        n, buckets = arm.get("ngram", 4), arm.get("buckets", 4096)
        out = _with_splits(
            ds, {name: _map_rows(s, lambda q: _ngram_ids(q, n, buckets)) for name, s in ds.splits.items()}
        )
        out.meta.update(vocab=None, vocab_size=buckets + 2)
        return out
    w, dims = arm.get("window", 10), arm.get("dims", 16)
    channels = ds.n_channels

    def reducer(seq):
        usable = max(w, (len(seq) // w) * w)
        padded = np.zeros((usable, channels), dtype=np.float32)
        padded[: min(len(seq), usable)] = seq[:usable]
        return padded.reshape(-1, w * channels)

    out = _with_splits(ds, {name: _map_rows(split, reducer) for name, split in ds.splits.items()})
    out.meta["channels"] = [f"proj{j}" for j in range(dims)]
    out.meta["draw"] = {"project": {"dims": dims}}
    return out


# ------------------------------------------------------------ what each run draws from its seed

PROJECT_STREAM = 7  # keeps the projection's random stream apart from the sampling streams


def draw_split(ds: Dataset, name: str, seed: int, epoch: int = 0) -> Split:
    """The split a run reads. For a random reduction, drawn now from the run's seed: sampled
    copies (train: fresh for every epoch; valid and test views: fixed for the run) and the
    projection matrix (one per run). Any other reduction: the stored split as it is."""
    split = ds.splits[name]
    spec = ds.meta.get("draw", {})
    if "project" in spec:
        rng = np.random.default_rng([seed, PROJECT_STREAM])
        width = split.values.shape[1]
        matrix = rng.normal(0, 1 / np.sqrt(width), (width, spec["project"]["dims"]))
        values = (np.asarray(split.values, dtype=np.float64) @ matrix).astype(np.float32)
        split = Split(values, split.offsets, split.labels, split.origin)
    if "sample" in spec:
        s = spec["sample"]
        rng = np.random.default_rng([seed, SPLIT_STREAM[name], epoch if name == "train" else 0])
        copies = s["train_copies"] if name == "train" else s["eval_views"]
        seqs, labels, origin = [], [], []
        for i in range(len(split)):
            for _ in range(copies):
                seqs.append(_sample_one(rng, split[i], s["mode"], s["length"]))
                labels.append(split.labels[i])
                origin.append(split.origin[i])
        split = Split.from_sequences(seqs, labels, origin, dtype=split.values.dtype)
    return split


def draw(ds: Dataset, seed: int, epoch: int = 0) -> Dataset:
    """The data set as one run reads it (see `draw_split`), every split it holds."""
    if "draw" not in ds.meta:
        return ds
    return Dataset(
        ds.kind, ds.classes, {name: draw_split(ds, name, seed, epoch) for name in ds.splits}, ds.meta
    )


REDUCERS = {
    "full": full,
    "truncate": truncate,
    "summarize": summarize,
    "sample": sample,
    "parallel": parallel,
    "project": project,
}


def _with_splits(ds: Dataset, splits: dict[str, Split]) -> Dataset:
    return Dataset(ds.kind, ds.classes, splits, dict(ds.meta))


# steps a record must have for the reduction to make sense (parallel: one per piece)
MIN_STEPS = {"parallel": lambda arm: arm["pieces"]}


def check_lengths(ds: Dataset, arm: dict, where: str) -> None:
    """Refuse, before any training, records too short for the arm, naming the first one."""
    name = arm["reduce"]
    need = MIN_STEPS.get(name, lambda arm: 1)(arm)
    for split_name, split in ds.splits.items():
        short = np.flatnonzero(split.lengths < need)
        if len(short):
            row = short[0]
            raise DataError(
                f"{where}: {split_name} record {int(split.origin[row])} has {int(split.lengths[row])} steps, "
                f"but reduce {name!r} with these settings needs at least {need} ({len(short)} such records "
                f"in {split_name}); lower the arm's setting, or drop shorter records with the sheet option "
                f"min_length: {need}"
            )


def reduce_dataset(ds: Dataset, arm: dict, where: str = "data set") -> Dataset:
    """Apply the arm's reducer and record the arm in the metadata."""
    name = arm.get("reduce")
    if name not in REDUCERS:
        raise ValueError(f"unknown reduce {name!r}; use one of {sorted(REDUCERS)}")
    check_lengths(ds, arm, where)
    out = REDUCERS[name](ds, arm)
    out.meta["arm"] = arm
    return out
