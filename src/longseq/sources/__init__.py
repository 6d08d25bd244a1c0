"""Readers and generators that turn raw data into the canonical format (see `data`).

Every data set is one row of the data set sheet (`longseq.study.sheet`): a reader, a path or fetch
recipe, a checksum, a split policy and reader options. A reader is a module here, found by its
file name like every plug-in (`longseq.core.plugins`), and loaded only when a row names it. It
declares `read(spec) -> Records` (sequences, labels and, where the source has them, groups:
records that must share a split, a DNA locus, an EEG recording; or its own test part, UCR), the
`KINDS` of sequences it gives, and `OPTIONS` (and `REQUIRED`, `ANY_OF`): the JSON schema of its
options, which checks every sheet row before any job runs. Modules starting with '_' are what
readers share. `ingest` then applies the split policy and fits what must be fitted (a text
vocabulary) on the train split only.
"""

from __future__ import annotations

import numpy as np

from ..core.data import SPLITS, DataError, Dataset, Split, some_rows
from ..core.plugins import READERS
from ._archives import check_sha256, fetch, read_member, read_source_bytes, sha256_of
from ._records import Records, class_order
from ._splits import default_policy, group_split, split_of, stratified_split
from .text import build_vocab, encode, tokenize

__all__ = [
    "READERS",
    "Records",
    "build_vocab",
    "check_sha256",
    "class_order",
    "encode",
    "fetch",
    "group_split",
    "ingest",
    "read_member",
    "read_records",
    "read_source_bytes",
    "sha256_of",
    "table",
    "tokenize",
]


def read_records(spec: dict, data_set: str) -> Records:
    """What the row's reader finds, before any split."""
    name = spec.get("reader")
    if name not in READERS.names():
        raise DataError(f"data set {data_set!r}: unknown reader {name!r}; use one of {READERS.names()}")
    return READERS.load(name).read(spec)


def table() -> str:
    """The readers as a markdown table (config/README.md holds it; a test keeps it current)."""
    rows = ["| reader | reads | needs | its own options |", "|---|---|---|---|"]
    for name in READERS.names():
        one_of = [" + ".join(f"`{key}`" for key in keys) for keys in READERS.constant(name, "ANY_OF", [])]
        needs = [f"`{key}`" for key in READERS.required(name)] + (
            ["one of " + "; ".join(one_of)] if one_of else []
        )
        own = ", ".join(f"`{key}`" for key in READERS.options(name)) or "–"
        rows.append(f"| `{name}` | {READERS.describe(name)} | {', '.join(needs) or '–'} | {own} |")
    return "\n".join(rows)


def _encode_text(records: Records, rows: dict[str, np.ndarray], spec: dict) -> tuple[list, dict]:
    """Token strings -> ids with a vocabulary counted on the train split only."""
    vocab = build_vocab(
        (records.sequences[i] for i in rows["train"]), spec.get("max_vocab", 20000), spec.get("min_count", 2)
    )
    return encode(records.sequences, vocab), {"vocab": vocab, "vocab_size": len(vocab)}


def _kept_rows(records: Records, spec: dict, name: str) -> np.ndarray:
    """The records the sheet keeps: empty ones refused or dropped, short ones dropped
    (min_length), a stratified seeded subsample (max_records); the dropped are counted in meta."""
    keep = np.arange(len(records.labels))
    lengths = np.array([len(seq) for seq in records.sequences])
    empty = np.flatnonzero(lengths == 0)
    if len(empty) and not spec.get("drop_empty"):
        raise DataError(
            f"data set {name!r}: empty {some_rows(empty + 1, 'record', 'records')} (counted from 1 in the "
            "source's order); remove them, or set the sheet option drop_empty: true to drop them"
        )
    if len(empty):
        keep = keep[lengths > 0]
        records.meta["dropped_empty"] = records.meta.get("dropped_empty", 0) + len(empty)
    if spec.get("min_length"):  # drop records too short for the study's arms, and say how many
        short = lengths[keep] < spec["min_length"]
        keep = keep[~short]
        records.meta["dropped_shorter_than_min_length"] = int(short.sum())
    if spec.get("max_records") and spec["max_records"] < len(keep):  # a stratified, seeded subsample
        take = stratified_split(
            records.labels[keep],
            {"take": spec["max_records"] / len(keep), "rest": 0},
            spec.get("split_seed", 0),
        )["take"]
        keep = keep[take]
    return keep


def _check_classes(sub: Records, splits: dict, policy: str, name: str) -> None:
    """At least two classes, and every class present in train and valid."""
    present = sorted(set(sub.labels.tolist()))
    if len(present) < 2:
        raise DataError(
            f"data set {name!r}: every record has label {sub.classes[present[0]]!r}; a "
            "classifier needs at least two classes: check the label column or the select option"
        )
    for split in ("train", "valid"):
        missing = [sub.classes[c] for c in present if not (splits[split].labels == c).any()]
        if missing:
            counts = {sub.classes[c]: int((sub.labels == c).sum()) for c in present}
            raise DataError(
                f"data set {name!r}: classes {missing} have no {split} records under split policy "
                f"{policy!r} (records per class: {counts}); add records of those classes, drop "
                "the classes, or change the split"
            )


def ingest(spec: dict, name: str = "dataset", resample: int | None = None) -> Dataset:
    """Build the data set one sheet row describes, with fixed train/valid/test splits, or with
    resample `resample` of them (`splits.split_of`); what is fitted is fitted on its train."""
    records = read_records(spec, name)
    if spec.get("kind") and spec["kind"] != records.kind:
        raise DataError(
            f"data set {name!r}: the sheet's kind is {spec['kind']!r} but reader {spec['reader']!r} "
            f"gives {records.kind!r} sequences; fix the kind column"
        )
    keep = _kept_rows(records, spec, name)
    sub = Records(
        records.kind,
        [records.sequences[i] for i in keep],
        records.labels[keep],
        records.classes,
        records.meta,
        None if records.groups is None else records.groups[keep],
        None if records.given_test is None else records.given_test[keep],
    )
    policy = default_policy(sub, spec)
    rows = split_of(sub, spec, name, policy, resample)
    sequences, meta = sub.sequences, dict(records.meta)
    if records.kind == "tokens" and sequences and isinstance(sequences[0], list):
        sequences, vocab_meta = _encode_text(sub, rows, spec)
        meta.update(vocab_meta)
    dtype = np.int32 if records.kind == "tokens" else np.float32
    splits = {
        split: Split.from_sequences(
            [sequences[i] for i in rows[split]], sub.labels[rows[split]], keep[rows[split]], dtype
        )
        for split in SPLITS
    }
    _check_classes(sub, splits, policy, name)
    if spec.get("describe"):
        meta["source"] = spec["describe"]
    meta.setdefault("name", name)
    meta["spec"] = spec
    meta["split_policy"] = policy
    if resample is not None:
        meta["resample"] = resample
    return Dataset(records.kind, records.classes, splits, meta)
