"""A learned summarizer: strided 1-D convolutions that turn T steps into T / stride learned
summaries, as the convolutional front ends of CNN-LSTM models for EEG and of speech recurrent
nets do. It is the `summarize` reduction learned end to end.

Every convolution is causal (it reads its own window and the steps before it, never later
ones), and its left context is carried from one chunk to the next, so a sequence read in chunks
whose lengths are multiples of the total stride gives exactly the summaries of one pass (TBPTT,
chunked prediction). Padding is never read: before each convolution the steps past a record's
end are set to zero, which is what the record alone, padded with zeros to a multiple of the
stride, reads; the normalisation takes no statistics over padding.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

NORMS = ("layer", "batch", "none")


def layer_stride(total: int, layers: int) -> int:
    """The per-layer stride whose `layers`-th power is the total stride."""
    per = round(total ** (1 / layers))
    if per**layers != total:
        raise ValueError(
            f"front end: a total stride of {total} over {layers} layers is not a whole stride per "
            f"layer; use a power of the per-layer stride (e.g. {2**layers} or {3**layers})"
        )
    return per


class MaskedBatchNorm(nn.BatchNorm1d):
    """Batch norm over channels whose training statistics come from the valid steps only."""

    def forward(self, h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:  # h [B, T, C]
        if not self.training:
            return (h - self.running_mean) / torch.sqrt(self.running_var + self.eps) * self.weight + self.bias
        values = h[valid]  # [N, C]
        mean, var = values.mean(0), values.var(0, unbiased=False)
        with torch.no_grad():
            n = len(values)
            self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
            unbiased = var.detach() * n / max(n - 1, 1)
            self.running_var.lerp_(unbiased.to(self.running_var.dtype), self.momentum)
            self.num_batches_tracked += 1
        return (h - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def _norm(kind: str, channels: int) -> nn.Module | None:
    return {"layer": lambda: nn.LayerNorm(channels), "batch": lambda: MaskedBatchNorm(channels)}.get(
        kind, lambda: None
    )()


def _normed(norm: nn.Module | None, h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    if norm is None:
        return h
    return norm(h, valid) if isinstance(norm, MaskedBatchNorm) else norm(h)


def _causal(conv: nn.Conv1d, h: torch.Tensor, valid: torch.Tensor, keep: int, before):
    """conv over h [B, T, C] with its padding set to zero and `keep` steps of left context
    (zeros at a record's start, else the previous chunk's last input steps); and the context to
    carry on."""
    h = h.masked_fill(~valid[..., None], 0)
    before = h.new_zeros(h.shape[0], keep, h.shape[2]) if before is None else before
    h = torch.cat([before, h], dim=1)
    return conv(h.transpose(1, 2)).transpose(1, 2), h[:, h.shape[1] - keep :]


class ResidualBlock(nn.Module):
    """Two causal convolutions of one kernel and dilation, each normalised, and a skip connection
    (a 1 x 1 convolution where the widths differ): Wang et al.'s ResNet block, made causal and
    dilated as in temporal convolutional networks (Bai et al. 2018), so that blocks of dilation
    1, 2, 4, ... see a window that doubles per block at every step."""

    def __init__(self, a: int, b: int, kernel: int, dilation: int, norm: str) -> None:
        super().__init__()
        self.keep = (kernel - 1) * dilation
        self.convs = nn.ModuleList(
            [nn.Conv1d(a, b, kernel, dilation=dilation), nn.Conv1d(b, b, kernel, dilation=dilation)]
        )
        self.norms = nn.ModuleList([_norm(norm, b), _norm(norm, b)]) if norm != "none" else [None, None]
        self.skip = nn.Conv1d(a, b, 1) if a != b else nn.Identity()

    def forward(self, h: torch.Tensor, valid: torch.Tensor, context: list | None):
        context = context or [None, None]
        y, first = _causal(self.convs[0], h, valid, self.keep, context[0])
        y = torch.relu(_normed(self.norms[0], y, valid))
        y, second = _causal(self.convs[1], y, valid, self.keep, context[1])
        skip = self.skip(h.masked_fill(~valid[..., None], 0).transpose(1, 2)).transpose(1, 2)
        return torch.relu(_normed(self.norms[1], y, valid) + skip), [first, second]


class FrontEnd(nn.Module):
    def __init__(self, width: int, cfg) -> None:
        super().__init__()
        if cfg.norm not in NORMS:
            raise ValueError(f"front end: unknown norm {cfg.norm!r}; use one of {NORMS}")
        self.step = layer_stride(cfg.stride, cfg.conv_layers)
        if cfg.kernel < self.step:
            raise ValueError(
                f"front end: kernel {cfg.kernel} < per-layer stride {self.step}: steps between windows "
                "would never be read; set kernel >= stride per layer"
            )
        self.kernel, self.stride, self.width = cfg.kernel, cfg.stride, cfg.channels
        self.blocks = nn.ModuleList(
            ResidualBlock(width if i == 0 else cfg.channels, cfg.channels, cfg.block_kernel, 2**i, cfg.norm)
            for i in range(cfg.blocks)
        )
        widths = [width if not cfg.blocks else cfg.channels] + [cfg.channels] * cfg.conv_layers
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, cfg.kernel, stride=self.step) for a, b in itertools.pairwise(widths)
        )
        self.norms = (
            nn.ModuleList(_norm(cfg.norm, cfg.channels) for _ in self.convs) if cfg.norm != "none" else None
        )
        self.dropout = nn.Dropout(cfg.conv_dropout)

    def valid_steps(self, lengths: torch.Tensor | None, layer: int, h: torch.Tensor) -> torch.Tensor:
        """[B, T] True at the steps of h, the input of convolution `layer` (0: the raw steps), that
        rows with `lengths` raw valid steps reach (all of them when lengths is None)."""
        steps = torch.arange(h.shape[1], device=h.device)[None, :]
        if lengths is None:
            return steps.expand(h.shape[0], -1) >= 0
        return steps < -(-lengths[:, None] // self.step**layer)

    def forward(self, h: torch.Tensor, context: list | None = None, lengths: torch.Tensor | None = None):
        """Summaries [B, ceil(T / stride), channels] of step inputs h [B, T, width] (padded with
        zeros to a multiple of the stride) and the left context to carry into the next chunk.
        `lengths`: each row's valid steps in this chunk (None: all)."""
        pad = -h.shape[1] % self.stride
        if pad:
            h = torch.cat([h, h.new_zeros(h.shape[0], pad, h.shape[2])], dim=1)
        keep = self.kernel - self.step  # input steps of the previous chunk each convolution reads again
        context = context or [None] * (len(self.blocks) + len(self.convs))
        carried = []
        valid = self.valid_steps(lengths, 0, h)
        for block, before in zip(self.blocks, context):
            h, tails = block(h, valid, before)
            carried.append(tails)
        for layer, conv in enumerate(self.convs):
            h, tail = _causal(conv, h, valid, keep, context[len(self.blocks) + layer])
            carried.append(tail)
            valid = self.valid_steps(lengths, layer + 1, h)
            h = self.dropout(
                torch.relu(_normed(self.norms[layer] if self.norms is not None else None, h, valid))
            )
        return h.masked_fill(~valid[..., None], 0), carried
