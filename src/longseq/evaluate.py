"""Score a trained model on the held-out test split (used for nothing else)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .data import Dataset
from .models import average_views, predict_proba
from .train import flush_denormals, load_model, pick_device


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


def evaluate(
    model_path: str | Path, history_path: str | Path, ds: Dataset, device=None, split: str = "test"
) -> dict:
    """Accuracy, macro-F1 and confusion matrix (predictions averaged over a record's views),
    next to the training cost recorded in the history."""
    device = device or pick_device()
    flush_denormals()
    model = load_model(model_path, ds, device)
    data = ds.splits[split]
    probs, labels = average_views(predict_proba(model, data), data)
    predicted = probs.argmax(1)
    history = json.loads(Path(history_path).read_text())
    counts = confusion(labels, predicted, ds.n_classes)
    return {
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": macro_f1(counts),
        "majority_baseline": float(np.bincount(labels, minlength=ds.n_classes).max() / len(labels)),
        "confusion": counts.tolist(),
        "classes": ds.classes,
        "n_test_records": int(len(labels)),
        "mean_steps": float(data.lengths.mean()),
        "train_mode": history["config"]["mode"],
        "train_seconds": history["train_seconds"],
        "epochs_run": history["epochs_run"],
        "best_epoch": history["best_epoch"],
        "best_valid_accuracy": history["best_valid_accuracy"],
        "peak_memory_mb": history["peak_memory_mb"],
        "device": history["device"],
    }
