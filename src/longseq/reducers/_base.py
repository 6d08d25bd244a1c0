"""What every reducer shares: mapping a function over a split's sequences, keeping labels and
origins (augmented copies and evaluation views trace back to their record through `origin`)."""

from __future__ import annotations

from ..core.data import Dataset, Split


def map_rows(split: Split, fn) -> Split:
    """Apply a per-sequence function, keeping labels and origins."""
    return Split.from_sequences([fn(seq) for seq in split], split.labels, split.origin)


def map_splits(ds: Dataset, fn) -> Dataset:
    """Apply a per-sequence function to every split."""
    return with_splits(ds, {name: map_rows(split, fn) for name, split in ds.splits.items()})


def with_splits(ds: Dataset, splits: dict[str, Split]) -> Dataset:
    return Dataset(ds.kind, ds.classes, splits, dict(ds.meta))
