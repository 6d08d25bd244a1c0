"""What a classifier reads from its per-step outputs: the last valid step, or a pool over the
valid steps (mean, max, or learned attention). Padding never counts.

Each readout is a running accumulator (`start`, `update` with one chunk's outputs, `read`), so
TBPTT and chunked prediction pool across chunks and end where one pass over the whole sequence
does; attention keeps a running maximum of its scores (the online softmax), so no chunk's
weights need another's.
"""

from __future__ import annotations

import torch
from torch import nn

READOUTS = ("last", "mean", "max", "attention")


def valid_steps(lengths: torch.Tensor, start: int, n: int, stride: int = 1) -> torch.Tensor:
    """[B, n] True where output j of a chunk beginning at raw step `start` reads a valid step:
    output j summarizes raw steps start + j * stride onwards, so it is valid while that step is."""
    first = start + stride * torch.arange(n, device=lengths.device)
    return first[None, :] < lengths[:, None]


class Readout(nn.Module):
    def __init__(self, kind: str, width: int) -> None:
        super().__init__()
        if kind not in READOUTS:
            raise ValueError(f"unknown readout {kind!r}; use one of {READOUTS}")
        self.kind = kind
        self.score = nn.Linear(width, 1) if kind == "attention" else None

    def start(self, batch: int, width: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        zeros = like.new_zeros(batch, width)
        if self.kind == "mean":
            return zeros, like.new_zeros(batch, 1)
        if self.kind == "max":
            return (torch.full_like(zeros, float("-inf")),)
        if self.kind == "attention":  # running max score, sum of weights, weighted sum
            return torch.full_like(zeros[:, :1], float("-inf")), zeros[:, :1], zeros
        return (zeros,)

    def update(self, acc: tuple | None, out: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The accumulator (None: before the first chunk) after one chunk's outputs [B, t, H];
        `valid` [B, t] marks valid steps."""
        if acc is None:
            acc = self.start(out.shape[0], out.shape[2], out)
        mask = valid[..., None]
        if self.kind == "last":
            count = valid.sum(1)
            picked = out[torch.arange(len(out), device=out.device), (count - 1).clamp_min(0)]
            return (torch.where((count > 0)[:, None], picked, acc[0]),)
        if self.kind == "mean":
            return acc[0] + out.masked_fill(~mask, 0).sum(1), acc[1] + valid.sum(1, keepdim=True)
        if self.kind == "max":
            return (torch.maximum(acc[0], out.masked_fill(~mask, float("-inf")).amax(1)),)
        scores = self.score(out).masked_fill(~mask, float("-inf"))  # [B, t, 1]
        top, total, weighted = acc
        new_top = torch.maximum(top, scores.amax(1))
        safe = torch.where(torch.isinf(new_top), torch.zeros_like(new_top), new_top)  # no valid step yet
        keep = torch.exp(top - safe)  # rescales what was summed under the old maximum
        weights = torch.exp(scores - safe[:, None])  # 0 at padding
        return new_top, total * keep + weights.sum(1), weighted * keep + (weights * out).sum(1)

    def read(self, acc: tuple) -> torch.Tensor:
        if self.kind == "mean":
            return acc[0] / acc[1].clamp_min(1)
        if self.kind == "attention":
            return acc[2] / acc[1].clamp_min(torch.finfo(acc[1].dtype).tiny)
        return acc[0]

    def pool(self, out: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The readout of whole sequences' outputs in one pass."""
        return self.read(self.update(None, out, valid))
