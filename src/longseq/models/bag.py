"""The non-recurrent baseline: every step pooled, order ignored."""

from __future__ import annotations

import torch
from torch import nn

from ..core.data import Dataset, Split
from ..core.settings import ModelConfig
from ._blocks import StepInputs
from ._options import HIDDEN

OPTIONS = HIDDEN


class BagClassifier(nn.Module):
    """The non-recurrent reference: order ignored, every step pooled.

    Tokens: embeddings averaged and max-pooled over the valid steps (fastText-like).
    Signals: normalised values and their squares, pooled by mean, max and min over time.
    Then one hidden layer and a linear output. If an LSTM arm cannot beat this, the order of
    the steps (or the LSTM's grip on it) is not what carries the label."""

    def __init__(
        self, kind: str, n_inputs: int, n_classes: int, cfg: ModelConfig | None = None, streams: int = 1
    ) -> None:
        super().__init__()
        cfg = cfg or ModelConfig.from_dict({"type": "bag"})
        self.kind = kind
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        width = self.inputs.width * (1 if kind == "tokens" else 2)  # signals: values and squares
        pooled = 2 * width if kind == "tokens" else 3 * width
        self.dropout = nn.Dropout(cfg.dropout)
        self.hidden = nn.Sequential(nn.Linear(pooled, cfg.hidden), nn.ReLU())
        self.head = nn.Linear(cfg.hidden, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.inputs(x)
        if self.kind != "tokens":
            h = torch.cat([h, h * h], dim=-1)
        valid = (torch.arange(h.shape[1], device=h.device)[None, :] < lengths[:, None])[..., None]
        mean = (h * valid).sum(1) / lengths[:, None].to(h.dtype)
        pools = [mean, h.masked_fill(~valid, float("-inf")).amax(1)]
        if self.kind != "tokens":
            pools.append(h.masked_fill(~valid, float("inf")).amin(1))
        return self.head(self.dropout(self.hidden(torch.cat(pools, dim=-1))))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    return BagClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams)
