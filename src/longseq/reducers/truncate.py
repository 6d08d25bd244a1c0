"""Keep the first or the last `length` steps.

Keras keeps the last by default; here the choice is explicit and recorded with the arm.
"""

from __future__ import annotations

from ..core.data import Dataset
from ._base import map_splits

OPTIONS = {
    "keep": {"enum": ["first", "last"], "description": "which end of the sequence to keep"},
    "length": {"type": "integer", "minimum": 1, "description": "steps kept"},
}
REQUIRED = ["keep", "length"]


def reduce(ds: Dataset, arm: dict) -> Dataset:
    n = arm["length"]
    return map_splits(ds, (lambda s: s[:n]) if arm["keep"] == "first" else (lambda s: s[-n:]))


def family(arm: dict) -> str:
    """Arms that differ only in `length` form one length sweep in the report."""
    return f"truncate ({arm['keep']})"
