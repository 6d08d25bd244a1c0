"""One LSTM per piece of a `parallel` reduction, their readouts concatenated."""

from __future__ import annotations

import torch
from torch import nn

from ..core.data import Dataset, Split
from ..core.settings import ModelConfig
from ._blocks import StepInputs, init_lstm
from ._options import LSTM, READOUT
from ._readout import Readout, valid_steps

OPTIONS = {
    **LSTM,
    **READOUT,
    "reverse": {
        "enum": ["alternate", "none"],
        "default": "alternate",
        "description": "read every other piece backwards (two pieces: a BiLSTM over halves)",
    },
}


def reverse_valid(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's valid steps in time, leaving its padding where it is."""
    steps = torch.arange(h.shape[1], device=h.device)[None, :]
    index = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return torch.gather(h, 1, index[..., None].expand_as(h))


class SegmentClassifier(nn.Module):
    """Each of k pieces (see the `parallel` reduction) is read by its own LSTM; the pieces'
    readouts (by default their last outputs) are concatenated for the linear head. With
    `reverse: alternate`, every other piece is read backwards: for two pieces, a forward LSTM
    reads the first half and a backward one reads the second half from the end, and both meet
    in the middle."""

    def __init__(
        self,
        kind: str,
        n_inputs: int,
        n_classes: int,
        pieces: int,
        cfg: ModelConfig | None = None,
        steps: int | None = None,
    ) -> None:
        super().__init__()
        cfg = cfg or ModelConfig.from_dict({"type": "segments"})
        self.kind, self.pieces, self.reverse = kind, pieces, cfg.reverse
        streams = pieces if kind == "tokens" else 1
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        width = self.inputs.width // pieces
        self.lstms = nn.ModuleList(
            nn.LSTM(width, cfg.hidden, num_layers=cfg.layers, batch_first=True) for _ in range(pieces)
        )
        for lstm in self.lstms:
            init_lstm(lstm, cfg.init, steps, cfg.forget_bias)
        self.readouts = nn.ModuleList(Readout(cfg.readout, cfg.hidden) for _ in range(pieces))
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden * pieces, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.inputs(x)
        h = h.view(h.shape[0], h.shape[1], self.pieces, -1)  # [B, T, k, E or C]
        valid = valid_steps(lengths, 0, h.shape[1])
        pooled = []
        for j, (lstm, readout) in enumerate(zip(self.lstms, self.readouts)):
            piece = h[:, :, j]
            if self.reverse == "alternate" and j % 2 == 1:
                piece = reverse_valid(piece, lengths)
            out, _ = lstm(piece)
            pooled.append(readout.pool(out, valid))
        return self.head(self.dropout(torch.cat(pooled, dim=-1)))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    if "pieces" not in ds.meta:
        raise ValueError("model type 'segments' reads the pieces of a 'parallel' reduction; use one")
    return SegmentClassifier(ds.kind, n_inputs, ds.n_classes, ds.meta["pieces"], cfg, steps)
