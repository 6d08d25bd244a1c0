"""The LSTM classifier: one LSTM reads the steps, a linear head reads its outputs (the last
valid one, or a pool over the valid ones: `readout`).

Batches are padded at the end. For a unidirectional LSTM the output at step t depends only on
steps <= t, so reading the valid outputs equals running each sequence alone, while staying on
the fused (cuDNN / oneDNN) kernel: packed sequences leave that kernel on CPU and run ~25x
slower there.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.data import Dataset, Split
from ..core.settings import ModelConfig
from ._blocks import StepInputs, init_lstm
from ._options import LSTM, READOUT
from ._readout import Readout, valid_steps

OPTIONS = {**LSTM, **READOUT}


def _within(lengths: torch.Tensor | None, start: int, steps: int) -> torch.Tensor | None:
    """Each row's valid steps inside the chunk [start, start + steps)."""
    return None if lengths is None else (lengths - start).clamp(0, steps)


class LSTMClassifier(nn.Module):
    """Embedding (tokens) or scaled values (signals), optionally a learned summarizer
    (`front_end`, see conv_lstm) -> nn.LSTM -> readout -> linear."""

    def __init__(
        self,
        kind: str,
        n_inputs: int,
        n_classes: int,
        cfg: ModelConfig | None = None,
        streams: int = 1,
        steps: int | None = None,
        front_end: nn.Module | None = None,
    ) -> None:
        super().__init__()
        cfg = cfg or ModelConfig.from_dict({"type": "lstm"})
        self.kind = kind
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        self.front = front_end
        self.stride = front_end.stride if front_end is not None else 1
        self.lstm = nn.LSTM(
            front_end.width if front_end is not None else self.inputs.width,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        init_lstm(self.lstm, cfg.init, None if steps is None else -(-steps // self.stride), cfg.forget_bias)
        # conv_lstm's skip: the readout reads the front end's features beside the LSTM's outputs
        self.skip = front_end is not None and cfg.options.get("skip", False)
        width = cfg.hidden + (front_end.width if self.skip else 0)
        self.readout = Readout(cfg.readout, width)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(width, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def run(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """LSTM outputs [B, T / stride, H] for a (chunk of a) batch, and the state after its last
        step (with a front end: the LSTM's and the convolutions' left context). `lengths`: each
        row's valid steps in this chunk, which the front end needs (padding set to zero)."""
        h = self.inputs(x)
        if self.front is None:
            return self.lstm(h, state)
        recurrent, context = state if state is not None else (None, None)
        h, context = self.front(h, context, lengths)
        out, recurrent = self.lstm(h, recurrent)
        return (torch.cat([h, out], -1) if self.skip else out), (recurrent, context)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features))

    def pool(self, acc, out: torch.Tensor, lengths: torch.Tensor, start: int):
        """The readout's accumulator (None: none yet) after the outputs of the chunk beginning at
        raw step `start`."""
        return self.readout.update(acc, out, valid_steps(lengths, start, out.shape[1], self.stride))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.run(x, None, lengths)
        return self.classify(self.readout.pool(out, valid_steps(lengths, 0, out.shape[1], self.stride)))

    @torch.no_grad()
    def predict_logits(
        self, x: torch.Tensor, lengths: torch.Tensor, chunk: int | None = None
    ) -> torch.Tensor:
        """Logits read in chunks of about `chunk` steps (a multiple of the stride) carrying the
        state and the readout, so that memory stays bounded for very long sequences; `x` may stay
        on the CPU (each chunk moves on its own)."""
        device = self.head.weight.device
        if chunk is None or x.shape[1] <= chunk:
            return self(x.to(device), lengths.to(device))
        chunk = max(self.stride, chunk // self.stride * self.stride)
        lengths = lengths.to(device)
        state, acc = None, None
        for start in range(0, x.shape[1], chunk):
            piece = x[:, start : start + chunk].to(device)
            out, state = self.run(piece, state, _within(lengths, start, piece.shape[1]))
            acc = self.pool(acc, out, lengths, start)
        return self.classify(self.readout.read(acc))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    return LSTMClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps)
