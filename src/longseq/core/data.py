"""The canonical on-disk format every step reads and writes.

A data set is a folder::

    meta.json                 kind, classes, vocabulary or channels, source, per-split lengths
    <split>.values.npy        all sequences of the split, concatenated
                              (tokens: int32 [sum T]; signals: float32 [sum T, C])
    <split>.offsets.npy       int64 [n + 1]; sequence i is values[offsets[i]:offsets[i + 1]]
    <split>.labels.npy        int64 [n], class ids into meta["classes"]
    <split>.origin.npy        int64 [n], which ingested record a row came from
                              (identity after ingest; repeated for augmented copies and views)

Concatenated arrays plus offsets load memory-mapped in milliseconds, whatever the number of
sequences, and never go through pickle. Folders are written to a temporary sibling and renamed
into place, so a crash never leaves a half-written data set behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMAT = "longseq/1"
SPLITS = ("train", "valid", "test")
PAD_ID = 0  # token id reserved for padding
UNK_ID = 1  # token id for anything outside the vocabulary


def some_rows(rows, noun: str = "row", plural: str = "rows", first: int = 5) -> str:
    """'row 3', or '6 rows: 1, 2, 4, 5, 7, ...' (the first few of many): an error about rows
    names how many and which."""
    rows = [str(r) for r in rows]  # numbers (NumPy's too) or ids
    if len(rows) == 1:
        return f"{noun} {rows[0]}"
    return f"{len(rows)} {plural}: {', '.join(rows[:first])}{', ...' if len(rows) > first else ''}"


class DataError(ValueError):
    """Bad input: the message names the file, the record and the fix."""


class MissingFile(DataError):
    """A path the sheet names is not there (`longseq new-study` tells it from an unreadable file)."""

    def __init__(self, path, fix: str) -> None:
        super().__init__(f"{path}: file not found; {fix}")
        self.path = str(path)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the run stops at once, saying what to try. Here (no
    torch) so that the CLI reports it like bad input without importing torch."""


@dataclass
class Split:
    """Variable-length sequences of one split, stored concatenated."""

    values: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    origin: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.labels)
        if len(self.offsets) != n + 1 or len(self.origin) != n:
            raise ValueError("offsets must have n + 1 entries and origin n entries")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @classmethod
    def from_sequences(
        cls,
        sequences: Sequence[np.ndarray],
        labels: Iterable[int],
        origin: Iterable[int] | None = None,
        dtype: np.dtype | type | None = None,
    ) -> Split:
        labels = np.asarray(list(labels), dtype=np.int64)
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if len(sequences):
            values = np.concatenate(sequences)
        else:
            values = np.zeros(0, dtype=dtype or np.int32)
        if dtype is not None:
            values = values.astype(dtype, copy=False)
        origin = np.arange(len(labels)) if origin is None else np.asarray(list(origin))
        return cls(values, offsets, labels, origin.astype(np.int64))


@dataclass
class Dataset:
    """A kind ("tokens" or "signal"), its class names, and train/valid/test splits."""

    kind: str
    classes: list[str]
    splits: dict[str, Split]
    meta: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_channels(self) -> int:
        """Input width of a signal step (1 for tokens, which are embedded instead)."""
        values = next(iter(self.splits.values())).values
        return 1 if values.ndim == 1 else values.shape[1]

    @property
    def vocab_size(self) -> int:
        return int(self.meta.get("vocab_size", 0))

    def input_format(self) -> dict:
        """What new records must look like to be read as this data set's (longseq predict
        checks them against it): kind, classes, vocabulary or channels."""
        return {
            "kind": self.kind,
            "classes": self.classes,
            "vocab": self.meta.get("vocab"),
            "vocab_size": self.vocab_size,
            "channels": self.meta.get("channels"),
            "n_channels": self.n_channels,
        }


def length_summary(split: Split) -> dict:
    lengths = split.lengths
    if len(lengths) == 0:
        return {"n": 0}
    return {
        "n": len(lengths),
        "min": int(lengths.min()),
        "median": float(np.median(lengths)),
        "max": int(lengths.max()),
        "mean": float(lengths.mean()),
        "class_counts": np.bincount(split.labels).tolist(),
    }


def _nonfinite_steps(values: np.ndarray) -> np.ndarray:
    """Steps (rows of the concatenated values) holding a NaN or inf in any channel."""
    return np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1))


def nonfinite_rows(split: Split) -> np.ndarray:
    """Rows of a signal split holding a NaN or inf."""
    return np.unique(np.searchsorted(split.offsets, _nonfinite_steps(split.values), side="right") - 1)


def validate(ds: Dataset, where: str) -> None:
    """Refuse data that would silently corrupt training: empty sequences, NaN/inf, bad labels."""
    if ds.kind not in ("tokens", "signal"):
        raise DataError(f"{where}: unknown kind {ds.kind!r}; use 'tokens' or 'signal'")
    for name in SPLITS:
        if name not in ds.splits:
            raise DataError(f"{where}: split {name!r} is missing")
        split = ds.splits[name]
        if len(split) == 0:
            raise DataError(f"{where}: split {name!r} is empty; give the source more records")
        empty = split.origin[split.lengths == 0]
        if len(empty):
            raise DataError(
                f"{where}: empty sequences in {name} {some_rows(empty, 'record', 'records')}; remove "
                "them from the source"
            )
        bad_labels = (split.labels < 0) | (split.labels >= ds.n_classes)
        if bad_labels.any():
            raise DataError(
                f"{where}: labels outside the {ds.n_classes} classes (e.g. "
                f"{int(split.labels[bad_labels][0])}) in {name} "
                f"{some_rows(split.origin[bad_labels], 'record', 'records')}"
            )
        if ds.kind == "signal":
            bad = nonfinite_rows(split)
            if len(bad):
                first = split.values[split.offsets[bad[0]] : split.offsets[bad[0] + 1]]
                raise DataError(
                    f"{where}: NaN or inf in {name} {some_rows(split.origin[bad], 'record', 'records')} "
                    f"(the first at step {_nonfinite_steps(first)[0]} of record "
                    f"{int(split.origin[bad[0]])}); clean or impute the source"
                )
        elif split.values.size and (split.values.min() < 0 or split.values.max() >= ds.vocab_size):
            raise DataError(f"{where}: {name} holds token ids outside the vocabulary")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def shared_mode(folder: bool) -> int:
    """Results on a shared cluster: the user's umask, but always readable by the group (a lab
    shares a study) and never writable by others, whatever the umask says."""
    base = 0o777 if folder else 0o666
    group = 0o050 if folder else 0o040
    return ((base & ~_umask()) | group) & ~0o002


def _remove_stale_temporaries(path: Path) -> None:
    """A writer killed outright (SIGKILL, a node lost) leaves its hidden temporary beside the
    output; the next writer of the same output removes it (one job writes one output)."""
    for stale in [*path.parent.glob(f".{path.name}.????????.tmp"), *path.parent.glob(f".{path.name}.old-*")]:
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder that replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(shared_mode(folder=True))  # mkdtemp makes 0700
    try:
        yield tmp
        for inner in tmp.rglob("*"):  # what the block wrote follows the process umask
            inner.chmod(shared_mode(folder=inner.is_dir()))
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, shared_mode(folder=False))  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_json_default) + "\n").encode())


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def save(ds: Dataset, path: str | os.PathLike) -> None:
    """Validate and write a data set folder atomically."""
    validate(ds, str(path))
    meta = dict(ds.meta)
    meta.update(
        format=FORMAT,
        kind=ds.kind,
        classes=list(ds.classes),
        splits={name: length_summary(split) for name, split in ds.splits.items()},
    )
    with atomic_dir(path) as tmp:
        for name, split in ds.splits.items():
            np.save(tmp / f"{name}.values.npy", split.values)
            np.save(tmp / f"{name}.offsets.npy", split.offsets)
            np.save(tmp / f"{name}.labels.npy", split.labels)
            np.save(tmp / f"{name}.origin.npy", split.origin)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")


def load(path: str | os.PathLike, mmap: bool = True, splits: Sequence[str] = SPLITS) -> Dataset:
    """Read a data set folder; values are memory-mapped unless `mmap=False`."""
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.exists():
        raise DataError(f"{path}: no meta.json; is this a longseq data set folder?")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT:
        raise DataError(f"{meta_file}: format {meta.get('format')!r}, expected {FORMAT!r}")
    mode = "r" if mmap else None
    loaded = {
        name: Split(
            np.load(path / f"{name}.values.npy", mmap_mode=mode),
            np.load(path / f"{name}.offsets.npy"),
            np.load(path / f"{name}.labels.npy"),
            np.load(path / f"{name}.origin.npy"),
        )
        for name in splits
    }
    return Dataset(meta["kind"], meta["classes"], loaded, meta)


def dataset_digest(ds: Dataset) -> str:
    """A digest of a data set's content: kind, classes, metadata and every split's arrays."""
    digest = hashlib.sha256(
        json.dumps([ds.kind, ds.classes, ds.meta], sort_keys=True, default=_json_default).encode()
    )
    for name in sorted(ds.splits):
        split = ds.splits[name]
        for array in (split.values, split.offsets, split.labels, split.origin):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def token_ranks(train: Split, vocab_size: int) -> np.ndarray:
    """rank[token id] = 0 for the most frequent token in the train split, 1 for the next, ...
    Fitted on train only; used by summarize and by pretraining's target vocabulary."""
    counts = np.bincount(np.asarray(train.values), minlength=vocab_size)
    order = np.lexsort((np.arange(vocab_size), -counts))  # by count desc, ties by id
    ranks = np.empty(vocab_size, dtype=np.int64)
    ranks[order] = np.arange(vocab_size)
    return ranks
