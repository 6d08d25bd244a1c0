"""What a run is scored by on the test split, for trained arms and references alike. No torch
here: the references import it, and their jobs rerun only when their own code changes."""

from __future__ import annotations

import numpy as np

from .data import Dataset


def confusion(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    return np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def macro_f1(counts: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 (0 for a class never predicted nor present).

    Written out rather than imported from scikit-learn: importing sklearn.metrics costs ~1 s,
    paid by every one of the study's evaluate jobs."""
    true_pos = np.diag(counts).astype(float)
    denominator = counts.sum(0) + counts.sum(1)
    f1 = np.divide(2 * true_pos, denominator, out=np.zeros_like(true_pos), where=denominator > 0)
    return float(f1.mean())


def train_majority_class(ds: Dataset) -> int:
    """The class most frequent in the train split (a constant predictor's best honest guess;
    the test split's own most frequent class would be an oracle)."""
    counts = ds.meta.get("splits", {}).get("train", {}).get("class_counts")
    if counts is None:
        counts = np.bincount(ds.splits["train"].labels, minlength=ds.n_classes)
    return int(np.argmax(counts))


def test_scores(labels: np.ndarray, predicted: np.ndarray, ds: Dataset) -> dict:
    """What every run records of its test predictions: accuracy, macro-F1, the train-majority
    constant predictor beside them, the confusion matrix and the split's size."""
    counts = confusion(labels, predicted, ds.n_classes)
    majority = train_majority_class(ds)
    return {
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": macro_f1(counts),
        "majority_class": majority,
        "majority_baseline": float((labels == majority).mean()),
        "confusion": counts.tolist(),
        "classes": ds.classes,
        "n_test_records": len(labels),
    }
