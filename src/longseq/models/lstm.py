"""The LSTM classifier: one LSTM reads the steps, a linear head reads its last valid output.

Batches are padded at the end and the classifier reads the output at each sequence's last
*valid* step. For a unidirectional LSTM the output at step t depends only on steps <= t, so this
equals running each sequence alone, while staying on the fused (cuDNN / oneDNN) kernel: packed
sequences leave that kernel on CPU and run ~25x slower there.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data import Dataset, Split
from ..settings import ModelConfig
from ._blocks import StepInputs, init_lstm


class LSTMClassifier(nn.Module):
    """Embedding (tokens) or normalised linear input (signals) -> nn.LSTM -> last valid step -> linear."""

    def __init__(
        self,
        kind: str,
        n_inputs: int,
        n_classes: int,
        cfg: ModelConfig = ModelConfig(),
        streams: int = 1,
        steps: int | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        self.lstm = nn.LSTM(
            self.inputs.width,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        init_lstm(self.lstm, cfg.init, steps, cfg.forget_bias)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def run(self, x: torch.Tensor, state=None):
        """LSTM outputs [B, T, H] for a (chunk of a) batch, and the state after its last step."""
        return self.lstm(self.inputs(x), state)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.run(x)
        return self.classify(out[torch.arange(out.shape[0], device=out.device), lengths - 1])

    @torch.no_grad()
    def predict_logits(
        self, x: torch.Tensor, lengths: torch.Tensor, chunk: int | None = None
    ) -> torch.Tensor:
        """Logits read in chunks of `chunk` steps carrying the state, so that memory stays
        bounded for very long sequences; `x` may stay on the CPU (each chunk moves on its own)."""
        device = self.head.weight.device
        if chunk is None or x.shape[1] <= chunk:
            return self(x.to(device), lengths.to(device))
        last = torch.zeros(x.shape[0], self.head.in_features, device=device, dtype=self.head.weight.dtype)
        state = None
        for start in range(0, x.shape[1], chunk):
            out, state = self.run(x[:, start : start + chunk].to(device), state)
            ends_here = ((lengths - 1 >= start) & (lengths - 1 < start + out.shape[1])).to(device)
            rows = ends_here.nonzero().squeeze(1)
            last[rows] = out[rows, (lengths.to(device)[rows] - 1 - start)]
        return self.classify(last)


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    return LSTMClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps)
