"""Readers and generators that turn raw data into the canonical format (see `data`).

Every data set is one row of the data set sheet (`longseq.sheet`): a reader, a path or fetch
recipe, a checksum, a split policy and reader options. A reader turns the row into `Records`:
sequences, labels and, where the source has them, groups (records that must share a split: a
DNA locus, an EEG recording) or its own test part (UCR). `ingest` then applies the split policy
and fits what must be fitted (a text vocabulary) on the train split only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

import numpy as np

from ..data import SPLITS, DataError, Dataset, Split, some_rows, stratified_split
from .archives import check_sha256, fetch, read_member, read_source_bytes, sha256_of
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
    "read_source_bytes",
    "sha256_of",
    "tokenize",
]

# reader name -> "module:function"; modules load only when their reader is used
READERS = {
    "synthetic": "synthetic:synthetic",
    "eeg_synthetic": "synthetic:eeg_synthetic",
    "ucr": "signals:ucr",
    "edf": "signals:edf",
    "numpy": "signals:numpy_arrays",
    "text": "text:text",
    "fasta": "dna:fasta",
    "genbank": "dna:genbank",
    "listops": "listops:listops",
}
SPLIT_POLICIES = ("stratified", "group", "given")


@dataclass
class Records:
    """What a reader found, before splitting.

    `sequences` are int32 token ids, float32 [T, C] signals, or (text) lists of token strings
    whose vocabulary is fitted after the split, on train only.
    """

    kind: str
    sequences: list
    labels: np.ndarray
    classes: list[str]
    meta: dict = field(default_factory=dict)
    groups: np.ndarray | None = None  # records with equal group share a split
    given_test: np.ndarray | None = None  # bool: the source's own test part


def class_order(names) -> list[str]:
    """The distinct class names in one fixed order: shorter first, then alphabetical, so that
    numbered classes read 1, 2, ..., 10 rather than 1, 10, 2."""
    return sorted(set(names), key=lambda s: (len(s), s))


def _reader(name: str, data_set: str):
    if name not in READERS:
        raise DataError(f"data set {data_set!r}: unknown reader {name!r}; use one of {sorted(READERS)}")
    module, function = READERS[name].split(":")
    return getattr(import_module(f"{__name__}.{module}"), function)


def group_split(groups: np.ndarray, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Row indices per split such that no group straddles two splits: groups are shuffled by
    the seed and dealt out until each split (but the last, which takes the rest) holds its
    fraction of the records."""
    rng = np.random.default_rng(seed)
    names = list(fractions)
    unique, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(unique))
    targets = [fractions[name] * len(groups) for name in names[:-1]]
    where = np.empty(len(unique), dtype=np.int64)
    current, filled = 0, 0.0
    for g in order:
        while current < len(targets) and filled >= targets[current]:
            current, filled = current + 1, 0.0
        where[g] = current
        filled += counts[g]
    return {name: np.flatnonzero(where[inverse] == i) for i, name in enumerate(names)}


def default_policy(records: Records, spec: dict) -> str:
    """The sheet's split policy; without one, the source's own test part where it has one,
    else stratified."""
    return spec.get("split") or ("given" if records.given_test is not None else "stratified")


def split_rows(records: Records, spec: dict, name: str, policy: str) -> dict[str, np.ndarray]:
    """Row indices of train/valid/test under a split policy (see `default_policy`)."""
    seed = spec.get("split_seed", 0)
    valid, test = spec.get("valid_fraction", 0.1), spec.get("test_fraction", 0.2)
    labels = records.labels
    if policy == "stratified":
        return stratified_split(labels, {"valid": valid, "test": test, "train": 1 - valid - test}, seed)
    if policy == "group":
        if records.groups is None:
            raise DataError(
                f"data set {name!r}: split policy 'group' but reader {spec['reader']!r} gives no groups; "
                "use 'stratified'"
            )
        return group_split(records.groups, {"test": test, "valid": valid, "train": 1 - valid - test}, seed)
    if policy == "given":
        if records.given_test is None:
            raise DataError(
                f"data set {name!r}: split policy 'given' but reader {spec['reader']!r} has no test part "
                "of its own; use 'stratified' or 'group'"
            )
        rest = np.flatnonzero(~records.given_test)
        valid = spec.get("valid_fraction", 0.2)  # carved from the source's train part
        inner = stratified_split(labels[rest], {"valid": valid, "train": 1 - valid}, seed)
        return {
            "train": rest[inner["train"]],
            "valid": rest[inner["valid"]],
            "test": np.flatnonzero(records.given_test),
        }
    raise DataError(f"data set {name!r}: unknown split policy {policy!r}; use one of {SPLIT_POLICIES}")


def resampled_rows(
    labels: np.ndarray, fixed: dict[str, np.ndarray], seed: list[int]
) -> dict[str, np.ndarray]:
    """One resample of the pooled records: per class, a seeded shuffle dealt out in the fixed
    split's counts, so that every resample has the fixed split's size and class counts in each
    part (as tsml-eval's stratified resamples of train + test): arms of a study stay paired
    record for record within a seed, and its test split's size is the same at every seed."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {part: [] for part in fixed}
    for cls in np.unique(labels):
        rows, start = rng.permutation(np.flatnonzero(labels == cls)), 0
        for part, taken in fixed.items():
            count = int((labels[taken] == cls).sum())
            out[part].append(rows[start : start + count])
            start += count
    return {part: np.sort(np.concatenate(chunks)) for part, chunks in out.items()}


def _split(
    records: Records, spec: dict, name: str, policy: str, resample: int | None
) -> dict[str, np.ndarray]:
    """The fixed split of the policy, or (the sheet's `resample: true`) resample `resample` of it:
    with groups, the groups dealt anew by the resample's seed (its parts' sizes then vary a
    little from seed to seed), else `resampled_rows`."""
    if resample is None:
        return split_rows(records, spec, name, policy)
    seed = [spec.get("split_seed", 0), resample]
    if policy == "group":
        return split_rows(records, {**spec, "split_seed": seed}, name, policy)
    return resampled_rows(records.labels, split_rows(records, spec, name, policy), seed)


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
    """Build the data set one sheet row describes, with fixed train/valid/test splits, or
    with resample `resample` of them (`resampled_rows`); what is fitted is fitted on its train."""
    records = _reader(spec.get("reader"), name)(spec)
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
    rows = _split(sub, spec, name, policy, resample)
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
