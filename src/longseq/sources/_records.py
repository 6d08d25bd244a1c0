"""What a reader gives: `Records`, before any split, and the fixed order of class names."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
