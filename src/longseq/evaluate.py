"""Score a trained model on the held-out test split (used for nothing else)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from .data import Dataset
from .models import average_views, predict_proba
from .train import flush_denormals, load_model, pick_device


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
    classes = list(range(ds.n_classes))
    return {
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": float(f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)),
        "majority_baseline": float(np.bincount(labels, minlength=ds.n_classes).max() / len(labels)),
        "confusion": confusion_matrix(labels, predicted, labels=classes).tolist(),
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
