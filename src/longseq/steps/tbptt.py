"""Truncated backpropagation through time for sequence classification.

The sequence is read forward in chunks of k1 steps, carrying the LSTM state (h, c). Gradients
reach back at most k2 steps from a loss: the state entering each gradient window is detached,
and everything before the window runs without building a graph. Memory therefore grows with
k2, not with the sequence length, and a chunk's inputs move to the device only when they are
read (the batch itself stays on the CPU).

Two forms:
- ``tbptt`` (k1, k2), k2 >= k1: a loss at each sequence's last valid step and, weighted by
  `aux_weight`, at the end of every chunk it runs through (the sequence's label as an auxiliary
  target; 0 gives pure TBPTT with the last step's loss only); an optimiser step after every
  chunk with a loss, as in Williams & Peng's TBPTT(k1, k2). k1 = k2 is the common chunked form;
  k2 > k1 re-reads the k2 - k1 steps before each chunk with a graph (from a detached state kept
  at chunk bounds). k2 < k1 is refused: the first k1 - k2 steps of a chunk would get no
  gradient, and a sequence ending there would have its loss outside the gradient window.
- ``last_k`` (k): one loss at the end; the first steps run without a graph, gradients flow
  through the last k steps only (the batch's shortest sequence gets at least k of them).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .batches import to_device


def _to(device: torch.device, index: torch.Tensor) -> torch.Tensor:
    """A small host index on the device without a stream sync: from pageable memory CUDA waits
    for the stream before copying, from pinned memory it does not."""
    return index if device.type == "cpu" else index.pin_memory().to(device, non_blocking=True)


def _detach(state):
    """The state (tensors, nested in tuples or lists) cut from the graph."""
    if state is None or isinstance(state, torch.Tensor):
        return None if state is None else state.detach()
    return type(state)(_detach(s) for s in state)


def _run(model, x, lengths, start: int, stop: int, state, device):
    """The model's outputs over raw steps [start, stop) and the state after them."""
    return model.run(to_device(x[:, start:stop], device), state, (lengths - start).clamp(0, stop - start))


def _run_no_grad(model, x, lengths, start: int, stop: int, state, device):
    if stop <= start:
        return state
    with torch.no_grad():
        _, state = _run(model, x, lengths, start, stop, state, device)
    return state


def _checked_stride(model: nn.Module, k1: int, k2: int) -> int:
    """The model's stride, once k1 and k2 are known to be windows TBPTT can run."""
    if k2 < 1 or k1 < 1:
        raise ValueError("k1 and k2 must be >= 1")
    if k2 < k1:
        raise ValueError(f"tbptt: k2 ({k2}) < k1 ({k1}) is not supported; set k2 >= k1")
    stride = getattr(model, "stride", 1)
    if k1 % stride or k2 % stride:
        raise ValueError(f"tbptt: k1 ({k1}) and k2 ({k2}) must be multiples of the model's stride {stride}")
    return stride


def _chunk_loss(model, features, y, last, start: int, stop: int, steps: int, aux_weight: float, final_logits):
    """The summed loss of one chunk: rows whose last step lies in it (their final logits are
    kept), plus `aux_weight` x the rows that go on past it. `last` is each row's last valid
    step, on the host, so which rows end or pass the chunk is known without waiting."""
    device = features.device
    ends = ((last >= start) & (last < stop)).nonzero().squeeze(1)
    mids = (last > stop - 1).nonzero().squeeze(1)
    loss = features.new_zeros(())
    if len(ends):
        rows = _to(device, ends)
        logits = model.classify(features[rows])
        final_logits[rows] = logits.detach()
        loss = loss + nn.functional.cross_entropy(logits, y[rows], reduction="sum")
    if len(mids) and stop < steps and aux_weight > 0:
        rows = _to(device, mids)
        logits = model.classify(features[rows])
        loss = loss + aux_weight * nn.functional.cross_entropy(logits, y[rows], reduction="sum")
    return loss


def tbptt_batch(
    model: nn.Module,
    x: torch.Tensor,
    lengths: torch.Tensor,
    y: torch.Tensor,
    k1: int,
    k2: int,
    after_chunk: Callable[[], None],
    device: torch.device,
    aux_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run TBPTT(k1, k2) over one padded batch (kept on the CPU). `after_chunk` is called after
    each chunk's backward pass (an optimiser step in training). Returns the mean loss over all
    (weighted) loss terms (a tensor on the device) and the final logits (for accuracy)."""
    stride = _checked_stride(model, k1, k2)
    batch, steps = x.shape[0], x.shape[1]
    lengths_cpu = lengths.cpu()
    lengths_dev = lengths.to(device)
    y = y.to(device)
    # every loss term: chunk ends inside the sequence, plus its last valid step
    chunk_ends = [end - 1 for end in range(k1, steps + 1, k1)]
    n_terms = aux_weight * sum(e < int(n) - 1 for e in chunk_ends for n in lengths_cpu) + batch
    saved = {0: None}  # detached states at chunk bounds
    acc = None  # the readout's accumulator over the steps read so far (detached between chunks)
    dtype = model.head.weight.dtype
    # the loss is summed on the device: reading it on the host would wait for every chunk
    total = torch.zeros((), device=device)
    final_logits = torch.zeros(batch, model.head.out_features, device=device, dtype=dtype)
    for start in range(0, steps, k1):
        stop = min(start + k1, steps)
        window = max(0, stop - k2) // stride * stride
        bound = max(b for b in saved if b <= window)
        state = _run_no_grad(model, x, lengths_dev, bound, window, saved[bound], device)
        out, state = _run(model, x, lengths_dev, window, stop, _detach(state), device)
        saved = {b: s for b, s in saved.items() if b >= stop - k2 - k1}
        saved[stop] = _detach(state)
        acc = model.pool(acc, out[:, (start - window) // stride :], lengths_dev, start)  # each step once
        features = model.readout.read(acc)
        loss = _chunk_loss(model, features, y, lengths_cpu - 1, start, stop, steps, aux_weight, final_logits)
        if loss.requires_grad:
            (loss / n_terms).backward()
            after_chunk()
        acc = _detach(acc)
        total += loss.detach().float()
    return total / n_terms, final_logits


def last_k_batch(
    model: nn.Module,
    x: torch.Tensor,
    lengths: torch.Tensor,
    y: torch.Tensor,
    k: int,
    device: torch.device,
    chunk: int = 1024,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Full forward, gradients through the last k steps only: returns (mean loss, logits) with a
    graph that starts at step min(lengths) - k (rounded down to the model's stride); a pooled
    readout takes the earlier steps' outputs without their gradient. Call .backward() on the loss."""
    stride = getattr(model, "stride", 1)
    window = max(0, int(lengths.min()) - k) // stride * stride
    chunk = max(stride, chunk // stride * stride)
    lengths_dev = lengths.to(device, non_blocking=True)
    state, acc = None, None
    for start in range(0, window, chunk):
        stop = min(start + chunk, window)
        with torch.no_grad():
            out, state = _run(model, x, lengths_dev, start, stop, state, device)
            acc = model.pool(acc, out, lengths_dev, start)
    out, _ = _run(model, x, lengths_dev, window, x.shape[1], _detach(state), device)
    acc = model.pool(acc, out, lengths_dev, window)
    logits = model.classify(model.readout.read(acc))
    return nn.functional.cross_entropy(logits, y.to(device)), logits
