"""An encoder LSTM (pretrained, see `pretrain`) summarizes every window of `chunk` steps; the
classifier LSTM reads the summaries."""

from __future__ import annotations

import torch
from torch import nn

from ..core.data import Dataset, Split
from ..core.settings import ModelConfig
from ._blocks import init_lstm
from ._options import LSTM, READOUT
from ._readout import Readout, valid_steps
from .lstm import LSTMClassifier

OPTIONS = {
    **LSTM,
    **READOUT,
    "chunk": {"type": "integer", "minimum": 1, "default": 20, "description": "steps per summarized window"},
    "freeze": {"type": "boolean", "default": False, "description": "keep the (pretrained) encoder fixed"},
}


class ChunkEncoderClassifier(nn.Module):
    """A learned representation of the long sequence: an encoder LSTM (normally the pretrained
    sequence autoencoder's) compresses every window of `chunk` steps into its last output, and
    the classifier LSTM reads those T / chunk vectors (its readout over them). `freeze` keeps the encoder fixed."""

    def __init__(
        self,
        encoder: LSTMClassifier,
        n_classes: int,
        cfg: ModelConfig | None = None,
        steps: int | None = None,
    ) -> None:
        super().__init__()
        cfg = cfg or ModelConfig.from_dict({"type": "chunk_encoder"})
        self.encoder, self.chunk, self.freeze = encoder, cfg.chunk, cfg.freeze
        self.lstm = nn.LSTM(encoder.lstm.hidden_size, cfg.hidden, batch_first=True)
        init_lstm(self.lstm, cfg.init, None if steps is None else -(-steps // cfg.chunk), cfg.forget_bias)
        self.readout = Readout(cfg.readout, cfg.hidden)
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
        pooled = self.readout.pool(out, valid_steps(lengths, 0, n_chunks, self.chunk))
        return self.head(self.dropout(pooled))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    # the encoder is a plain LSTM classifier (the pretrained one's shapes), its last output the summary
    own = {
        "type": "lstm",
        "readout": "last",
        **{k: cfg.options[k] for k in ("hidden", "layers", "init", "forget_bias")},
    }
    settings = {"embedding": cfg.embedding, "dropout": cfg.dropout, "scaling": cfg.scaling, **own}
    encoder = LSTMClassifier(
        ds.kind, n_inputs, ds.n_classes, ModelConfig.from_dict(settings), streams, steps=cfg.chunk
    )
    return ChunkEncoderClassifier(encoder, ds.n_classes, cfg, steps)
