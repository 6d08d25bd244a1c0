"""Feeding models: variable-length batches bucketed by length, padded at the end, moved to the
device; class probabilities read back, averaged over a record's views."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core.data import Split


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices per batch, similar lengths together so little padding is computed.

    With a generator: shuffle, sort within pools of 50 batches, shuffle the batch order
    (random but bucketed). Without one: plain sort by length (for prediction)."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(
    split: Split, rows: np.ndarray, device: torch.device, pin: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad the chosen rows at the end to the longest among them. Tokens stay int32 until they
    reach `device` (half the bytes of int64 to copy); with `pin` the host batch is page-locked,
    so that a copy to a GPU runs asynchronously (`non_blocking`)."""
    lengths = split.lengths[rows]
    longest = int(lengths.max())
    first = split[rows[0]]
    dtype = np.float32 if first.dtype == np.float32 else np.int32
    padded = np.zeros((len(rows), longest) + first.shape[1:], dtype=dtype)
    for j, i in enumerate(rows):
        seq = split[i]
        padded[j, : len(seq)] = seq
    x, lengths = torch.from_numpy(padded), torch.from_numpy(lengths.astype(np.int64))
    if pin:
        x, lengths = x.pin_memory(), lengths.pin_memory()
    if device.type == "cpu":
        return to_device(x, device), lengths
    return to_device(x, device), lengths.to(device, non_blocking=True)


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A (chunk of a) host batch on the device: tokens cast to int64 there, after the copy."""
    x = x.to(device, non_blocking=True)
    return x if x.is_floating_point() else x.long()


@torch.no_grad()
def predict_proba(
    model: nn.Module, split: Split, batch_size: int = 64, chunk: int | None = 4096
) -> np.ndarray:
    """Class probabilities per row of the split, in row order; sequences longer than `chunk`
    are read in chunks so that memory does not grow with their length."""
    model.eval()
    device = model.head.weight.device
    probs = np.zeros((len(split), model.head.out_features), dtype=np.float64)
    for rows in length_batches(split.lengths, batch_size, None):
        x, lengths = collate(split, rows, torch.device("cpu"))
        if hasattr(model, "run"):  # LSTM classifiers carry their state across chunks
            logits = model.predict_logits(x, lengths, chunk)
        else:
            logits = model(x.to(device), lengths.to(device))
        probs[rows] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    return probs


def average_views(probs: np.ndarray, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Mean probabilities over the rows that share an origin (sampled views of one record),
    with each record's label; records in order of first appearance."""
    origins, first, inverse = np.unique(split.origin, return_index=True, return_inverse=True)
    sums = np.zeros((len(origins), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    counts = np.bincount(inverse, minlength=len(origins))[:, None]
    order = np.argsort(first)
    return (sums / counts)[order], split.labels[first][order]


def record_ids(split: Split) -> np.ndarray:
    """The ingested records behind `average_views`' rows, in its order: the verdict tells from
    them whether the seeds of a study were scored on the same records or on resamples."""
    origins, first = np.unique(split.origin, return_index=True)
    return origins[np.argsort(first)]
