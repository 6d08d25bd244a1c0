"""Split policies: which records go to train, valid and test. `stratified` (per class), `group`
(records of one group, a locus or a recording, share a part) and `given` (the source's own test
part, valid carved from its train part), each fixed by the sheet's `split_seed`; with the
sheet's `resample: true`, one resample of them per seed of the study (`resampled_rows`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.data import DataError

if TYPE_CHECKING:
    from ._records import Records

SPLIT_POLICIES = ("stratified", "group", "given")


def _deal(labels: np.ndarray, parts: list[str], counts, seed) -> dict[str, np.ndarray]:
    """Row indices per part: each class's rows shuffled by the seed and dealt out in order,
    `counts(cls, n)` rows of the class's n to each part but the last, which takes the rest."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {part: [] for part in parts}
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        start = 0
        for part, take in zip(parts[:-1], counts(cls, len(rows))):
            out[part].append(rows[start : start + take])
            start += take
        out[parts[-1]].append(rows[start:])
    return {part: np.sort(np.concatenate(chunks)) for part, chunks in out.items()}


def stratified_split(labels: np.ndarray, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Row indices per split, stratified by class; the last split takes the remainder."""
    names = list(fractions)
    return _deal(labels, names, lambda cls, n: [round(fractions[name] * n) for name in names[:-1]], seed)


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
    parts = list(fixed)
    return _deal(
        labels, parts, lambda cls, n: [int((labels[fixed[p]] == cls).sum()) for p in parts[:-1]], seed
    )


def split_of(
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
