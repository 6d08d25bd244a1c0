"""Score a trained model on the held-out test split (used for nothing else)."""

from __future__ import annotations

import json
from pathlib import Path

from ..core import kernels
from ..core.data import Dataset
from ..core.runtime import flush_denormals, pick_device
from ..core.scores import test_scores
from ..reducers import draw_split
from ..stats.flops import costs
from .batches import average_views, predict_proba, record_ids
from .saved import load_model


def evaluate(
    model_path: str | Path, history_path: str | Path, ds: Dataset, device=None, split: str = "test"
) -> dict:
    """Accuracy, macro-F1 and confusion matrix (predictions averaged over a record's views),
    next to the training cost recorded in the history and the FLOPs of inference and
    training. Random reductions are drawn from the run's own seed (recorded in its history),
    as training drew them."""
    device = device or pick_device()
    flush_denormals()
    history = json.loads(Path(history_path).read_text())
    data = draw_split(ds, split, history["seed"])
    model = load_model(model_path, Dataset(ds.kind, ds.classes, {split: data}, ds.meta), device)
    probs, labels = average_views(predict_proba(model, data), data)
    predicted = probs.argmax(1)
    pretrained = history.get("pretraining") or {"seconds": 0.0, "steps_read": 0}
    steps_read = history["steps_read"] + pretrained["steps_read"]
    return {
        **test_scores(labels, predicted, ds),
        "mean_steps": float(data.lengths.mean()),
        "train_mode": history["config"]["mode"],
        # a pretrained run's cost includes its pretraining's (longseq.steps.train.pretraining_cost)
        "train_seconds": history["train_seconds"] + pretrained["seconds"],
        "pretrain_seconds": pretrained["seconds"],
        "updates": history["updates"],
        "max_updates": history["config"]["max_updates"],
        "steps_read": steps_read,
        # the verdict's cost: FLOPs counted from the model's shapes (longseq.stats.flops)
        **costs(model, data.lengths, len(labels), steps_read),
        "epochs": history["epochs"],
        "best_update": history["best_update"],
        "best_valid_accuracy": history["best_valid_accuracy"],
        "best_valid_loss": history["best_valid_loss"],
        "stopped_by": history["stopped_by"],
        "still_improving": history["still_improving"],
        "peak_memory_mb": history["peak_memory_mb"],
        "peak_reserved_mb": history.get("peak_reserved_mb"),
        "peak_host_rss_mb": history.get("peak_host_rss_mb"),
        "precision": history.get("precision", "float32"),
        "device": history["device"],
        "kernels": history.get("kernels"),  # the training's CPU and kernel settings
        "evaluation_kernels": kernels.record(),
        "tuned": history.get("tuned"),
        "scaling": history.get("scaling"),  # a signal run's scaling; scaling_choice: chosen on valid (auto)
        "scaling_choice": history.get("scaling_choice"),
        # per test record, in the split's order: the verdict's variances over records and seeds
        "labels": labels.tolist(),
        "predicted": predicted.tolist(),
        "records": record_ids(data).tolist(),  # which ingested records: the same or resampled
    }


def run_record(run: dict, metrics: dict, ds: Dataset) -> dict:
    """The metrics file of one run: which run it is (data set, arm, seed, the arm's settings;
    the reduction's when none are given), then its test metrics."""
    return {**run, "arm_params": run.get("arm_params") or ds.meta.get("arm", {})} | metrics
