"""An encoder LSTM (pretrained, see `pretrain`) summarizes every window of `chunk` steps; the
classifier LSTM reads the summaries."""

from __future__ import annotations

import torch
from torch import nn

from ..data import Dataset, Split
from ..settings import ModelConfig
from ._blocks import init_lstm
from .lstm import LSTMClassifier


class ChunkEncoderClassifier(nn.Module):
    """A learned representation of the long sequence: an encoder LSTM (normally the pretrained
    sequence autoencoder's) compresses every window of `chunk` steps into its last output, and
    the classifier LSTM reads those T / chunk vectors. `freeze` keeps the encoder fixed."""

    def __init__(
        self,
        encoder: LSTMClassifier,
        n_classes: int,
        cfg: ModelConfig = ModelConfig(),
        steps: int | None = None,
    ) -> None:
        super().__init__()
        self.encoder, self.chunk, self.freeze = encoder, cfg.chunk, cfg.freeze
        self.lstm = nn.LSTM(encoder.lstm.hidden_size, cfg.hidden, batch_first=True)
        init_lstm(self.lstm, cfg.init, None if steps is None else -(-steps // cfg.chunk), cfg.forget_bias)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, n_classes)
        if cfg.freeze:
            self.encoder.requires_grad_(False)

    def fit_normalisation(self, train: Split) -> None:
        self.encoder.fit_normalisation(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        batch, steps = x.shape[:2]
        n_chunks = -(-steps // self.chunk)
        pad = n_chunks * self.chunk - steps
        if pad:
            x = torch.cat([x, x.new_zeros((batch, pad) + x.shape[2:])], dim=1)
        windows = x.reshape((batch * n_chunks, self.chunk) + x.shape[2:])
        # each window's own last valid step (full windows: chunk - 1; the last one: what is left)
        starts = torch.arange(n_chunks, device=x.device)[None, :] * self.chunk
        inside = (lengths[:, None] - starts).clamp(1, self.chunk).reshape(-1)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            out, _ = self.encoder.run(windows)
            summaries = out[torch.arange(len(windows), device=x.device), inside - 1]
        summaries = summaries.reshape(batch, n_chunks, -1)
        out, _ = self.lstm(summaries)
        last_chunk = (lengths - 1) // self.chunk
        return self.head(self.dropout(out[torch.arange(batch, device=x.device), last_chunk]))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    encoder = LSTMClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps=cfg.chunk)
    return ChunkEncoderClassifier(encoder, ds.n_classes, cfg, steps)
