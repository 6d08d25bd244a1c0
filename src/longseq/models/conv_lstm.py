"""A learned summarizer in front of the LSTM: residual blocks at full resolution (`blocks`, none
by default) and strided convolutions turn T steps into T / stride summaries, which the LSTM
reads (the summarize reduction, learned end to end)."""

from __future__ import annotations

from torch import nn

from ..core.data import Dataset
from ..core.settings import ModelConfig
from ._front_end import FrontEnd
from ._options import FRONT_END, LSTM, READOUT
from .lstm import LSTMClassifier

OPTIONS = {
    **LSTM,
    **READOUT,
    **FRONT_END,
    "skip": {
        "type": "boolean",
        "default": False,
        "description": "the readout reads the front end's features beside the LSTM's outputs, so that the "
        "model holds its no-LSTM ablation (the conv type) as a special case",
    },
}


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    """An LSTM classifier with the front end between its step inputs and its LSTM: every
    training mode, chunked prediction and readout of the plain LSTM apply, with k1, k2 and k
    counted in raw steps (multiples of the stride)."""
    width = n_inputs if ds.kind != "tokens" else cfg.embedding * streams
    return LSTMClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps, FrontEnd(width, cfg))
