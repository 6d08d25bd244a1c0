"""Apply a trained arm to new records: the steps its training data went through, with
everything fitted taken from that data and never refitted.

New records come from any reader of the sheet (or a data set folder). Tokens are encoded with
the training vocabulary (a token it never saw becomes <unk>, as rare training tokens did);
signals must have the training data's channels. The arm's reduction runs with the fitted state
stored in the model file (summarize's token ranks), the run's seed draws the same kind of
views and projection as evaluation did, and the model's own buffers hold the per-channel
scaling. So a model file copied to another machine predicts on its own.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch

from ..core.data import DataError, Dataset, Split, atomic_write_bytes, nonfinite_rows, some_rows
from ..core.runtime import pick_device
from ..reducers import draw_split, reduce_dataset
from .batches import average_views, predict_proba
from .saved import load_model


def read_saved(model_path: str | Path) -> dict:
    path = Path(model_path)
    if not path.exists():
        raise DataError(
            f"{path}: no model file; train the arm first (results/models/<data set>/<arm>/seed<N>/model.pt)"
        )
    if path.suffix == ".npz":  # a reference's fitted state (longseq.references)
        from ..references import load_state

        state = load_state(path)
        return {
            "reference": state["reference"],
            "state": state,
            "data": {"input": state["input"]},
            "seed": state["seed"],
            "classes": state["input"]["classes"],
        }
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if "data" not in saved or "input" not in saved["data"]:
        raise DataError(f"{path}: written by an older longseq without its data's fitted state; retrain it")
    return saved


def recommended_model(results: Path, dataset: str, seed: int) -> Path:
    """The model of the arm the study's verdict recommends for a data set."""
    import pandas as pd

    table = Path(results) / "verdict" / "arms.csv"
    if not table.exists():
        raise DataError(f"{table}: no verdict yet; run the study (make study) or name a --model")
    arms = pd.read_csv(table)
    chosen = arms[(arms["dataset"] == dataset) & arms["recommended"]]
    if chosen.empty:
        raise DataError(f"{table}: no data set {dataset!r} (it has {sorted(set(arms['dataset']))})")
    return Path(results) / "models" / dataset / chosen["arm"].iloc[0] / f"seed{seed}" / "model.pt"


def _encode(records, inputs: dict, where: str) -> list[np.ndarray]:
    """Token strings -> the training vocabulary's ids; id sequences must share its vocabulary."""
    from ..sources import encode

    if records.sequences and isinstance(records.sequences[0], list):
        return encode(records.sequences, inputs["vocab"])
    if records.meta.get("vocab") != inputs["vocab"]:
        raise DataError(
            f"{where}: these records use another vocabulary than the model's training data "
            "(e.g. another k-mer size); read them with the training data set's options"
        )
    return records.sequences


def new_records(spec: dict, saved: dict, where: str) -> tuple[Split, bool]:
    """The records of a sheet row (or of a data set folder's split), as the model's input
    before its reduction: (split, whether the records have true labels)."""
    from .. import sources
    from ..core import data

    inputs = saved["data"]["input"]
    if "folder" in spec:
        source = data.load(spec["folder"], splits=(spec.get("split", "test"),))
    else:
        source = sources.read_records(spec, where)
    if source.kind != inputs["kind"]:
        raise DataError(
            f"{where}: {source.kind} records, but the model reads {inputs['kind']}; give records of its kind"
        )
    classes, labelled = source.classes, not source.meta.get("unlabeled")
    if "folder" in spec:
        split = source.splits[spec.get("split", "test")]
        if source.kind == "tokens" and source.meta.get("vocab") != inputs["vocab"]:
            raise DataError(f"{where}: this data set has another vocabulary than the model's training data")
    else:
        sequences = _encode(source, inputs, where) if source.kind == "tokens" else source.sequences
        dtype = np.int32 if source.kind == "tokens" else np.float32
        split = Split.from_sequences(sequences, source.labels, np.arange(len(sequences)), dtype)
    if not labelled:  # no true labels: every record counts as the first class, unreported
        classes = [inputs["classes"][0]]
    if source.kind == "signal" and split.values.shape[1] != inputs["n_channels"]:
        raise DataError(
            f"{where}: records with {split.values.shape[1]} channels, but the model was trained on "
            f"{inputs['n_channels']} ({inputs['channels']}); give every channel, in that order"
        )
    bad = nonfinite_rows(split) if source.kind == "signal" else []
    if len(bad):
        raise DataError(
            f"{where}: NaN or inf in {some_rows(split.origin[bad], 'record', 'records')}; "
            "clean or impute them"
        )
    unknown = sorted(set(classes) - set(inputs["classes"]))
    if unknown:  # labels into the training classes; unknown ones are refused
        raise DataError(f"{where}: labels {unknown} are not classes of the model ({inputs['classes']})")
    index = [inputs["classes"].index(c) for c in classes]
    split = Split(split.values, split.offsets, np.asarray(index, dtype=np.int64)[split.labels], split.origin)
    return split, labelled


def predict(saved: dict, model_path, split: Split, device=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class probabilities per record (views averaged), its label and its id (origin), records
    in the order evaluation reports them."""
    if "reference" in saved:  # it reads whole records, as it was fitted
        from ..references import probabilities

        return probabilities(saved["state"], split)[0], split.labels, split.origin
    device = device or pick_device()
    inputs, fitted = saved["data"]["input"], saved["data"]
    meta = {
        "vocab": inputs["vocab"],
        "vocab_size": inputs["vocab_size"],
        "channels": inputs["channels"],
        "fitted": fitted.get("fitted", {}),
    }
    ds = Dataset(inputs["kind"], inputs["classes"], {"test": split}, meta)
    reduced = reduce_dataset(ds, fitted["arm"], "new records")
    data = draw_split(reduced, "test", saved["seed"])
    model = load_model(
        model_path, Dataset(reduced.kind, reduced.classes, {"test": data}, reduced.meta), device
    )
    probs, labels = average_views(predict_proba(model, data), data)
    _, first = np.unique(data.origin, return_index=True)
    return probs, labels, data.origin[np.sort(first)]


def write_predictions(path, ids, probs: np.ndarray, classes: list[str], labels=None) -> None:
    """One row per record: its id, the predicted class, the class probabilities, the true label."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["record", "predicted", *[f"p_{c}" for c in classes], *(["label"] if labels is not None else [])]
    )
    for i, (record, p) in enumerate(zip(ids, probs)):
        row = [int(record), classes[int(p.argmax())], *[f"{v:.6f}" for v in p]]
        writer.writerow(row + ([classes[int(labels[i])]] if labels is not None else []))
    atomic_write_bytes(path, out.getvalue().encode())


def model_card(saved: dict, metrics: dict, command: list[str]) -> dict:
    """What a model folder says about itself (card.json beside model.pt): the data set, the arm
    and its settings, the seed, its test metrics, the training data's digest, the package
    version and the command that made the card."""
    from .. import __version__

    return {
        "dataset": metrics["dataset"],
        "arm": metrics["arm"],
        "arm_settings": metrics.get("arm_params"),
        "reduction": saved["data"].get("arm"),
        "model": saved["model_config"],
        "scaling_choice": metrics.get("scaling_choice"),  # where the scaling was chosen on valid (auto)
        "seed": saved["seed"],
        "classes": saved["classes"],
        "test": {k: metrics[k] for k in ("accuracy", "macro_f1", "majority_baseline", "n_test_records")},
        "training": {
            k: metrics.get(k) for k in ("updates", "stopped_by", "still_improving", "device", "precision")
        },
        "train_data_digest": saved["data_digest"],
        "longseq_version": __version__,
        "command": " ".join(command),
        "predict": "longseq predict --model <this folder>/model.pt --spec '<a sheet row as JSON>' --out predictions.csv",
    }
