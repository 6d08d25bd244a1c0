"""Sequence to sequence: an encoder LSTM reads the steps, a decoder LSTM cell emits the label."""

from __future__ import annotations

import torch
from torch import nn

from ..core.data import Dataset
from ..core.settings import ModelConfig
from ._options import LSTM, READOUT
from .lstm import LSTMClassifier

OPTIONS = {**LSTM, **READOUT}


class Seq2SeqClassifier(LSTMClassifier):
    """Encoder-decoder form: the encoder LSTM reads the sequence, and a decoder LSTM cell,
    started from the encoder's last valid output (cell state zero, as in longseq.steps.pretrain),
    takes one learned start input and emits the label, a target sequence of length one.
    Shares `run` with the plain classifier, so every training mode and a pretrained encoder
    apply to it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hidden = self.lstm.hidden_size
        self.start = nn.Parameter(torch.zeros(hidden))
        self.decoder = nn.LSTMCell(hidden, hidden)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        h, _ = self.decoder(self.start.expand(len(features), -1), (features, torch.zeros_like(features)))
        return self.head(self.dropout(h))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    return Seq2SeqClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps)
