"""The learned summarizer with no LSTM: the conv_lstm's strided convolutions and readout
feeding the head directly, so the verdict shows whether the LSTM adds anything."""

from __future__ import annotations

import torch
from torch import nn

from ..core.data import Dataset, Split
from ..core.settings import ModelConfig
from ._blocks import StepInputs
from ._front_end import FrontEnd
from ._options import FRONT_END, READOUT
from ._readout import Readout, valid_steps

OPTIONS = {**READOUT, **FRONT_END}


class ConvClassifier(nn.Module):
    """Step inputs -> strided convolutions -> readout over the valid summaries -> linear. With
    the last summary as its readout it sees only the last few strides: give it and its conv_lstm
    the same pooled readout to compare like with like."""

    def __init__(self, kind: str, n_inputs: int, n_classes: int, cfg: ModelConfig, streams: int = 1) -> None:
        super().__init__()
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        self.front = FrontEnd(self.inputs.width, cfg)
        self.readout = Readout(cfg.readout, cfg.channels)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.channels, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h, _ = self.front(self.inputs(x), None, lengths)
        pooled = self.readout.pool(h, valid_steps(lengths, 0, h.shape[1], self.front.stride))
        return self.head(self.dropout(pooled))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    return ConvClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams)
