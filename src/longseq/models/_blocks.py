"""What every model type shares: the step inputs (embedding or scaled signals) and the LSTM
initialisation for long inputs."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core.data import PAD_ID, Split


class StepInputs(nn.Module):
    """What every model reads at a step. Tokens: an embedding (k parallel streams embedded side
    by side, [B, T, k] -> [B, T, k * E]). Signals: values scaled per channel with statistics
    fitted on the train split only (`fit`): `standard` (mean, std), `robust` (median, IQR: a
    few huge bursts do not set the scale) or `log` (sign(x) * log1p|x|, then standard), for
    readings that span orders of magnitude, such as ACSF1's power: long idle stretches and
    bursts thousands of times larger. `instance`: each record was already scaled by its own
    statistics when it was reduced (longseq.reducers), so nothing is fitted here."""

    SCALINGS = ("standard", "robust", "log", "instance")

    def __init__(
        self, kind: str, n_inputs: int, embedding: int = 32, streams: int = 1, scaling: str = "standard"
    ) -> None:
        super().__init__()
        if scaling not in self.SCALINGS:
            raise ValueError(f"unknown scaling {scaling!r}; use one of {self.SCALINGS}")
        self.kind, self.scaling = kind, scaling
        if kind == "tokens":
            self.embed = nn.Embedding(n_inputs, embedding, padding_idx=PAD_ID)
            self.width = embedding * streams
        else:
            self.embed = None
            self.width = n_inputs
        self.register_buffer("center", torch.zeros(n_inputs if kind != "tokens" else 0))
        self.register_buffer("scale", torch.ones(n_inputs if kind != "tokens" else 0))

    def _log(self, x):
        return torch.sign(x) * torch.log1p(x.abs()) if self.scaling == "log" else x

    def fit(self, train: Split) -> None:
        if self.kind == "tokens" or self.scaling == "instance":
            return
        values = np.asarray(train.values, dtype=np.float64)
        if self.scaling == "log":
            values = np.sign(values) * np.log1p(np.abs(values))
        if self.scaling == "robust":
            low, center, high = np.percentile(values, [25, 50, 75], axis=0)
            scale = (high - low) / 1.349  # the IQR of a normal distribution is 1.349 std
        else:
            center, scale = values.mean(axis=0), values.std(axis=0)
        self.center.copy_(torch.from_numpy(np.asarray(center)).float())
        self.scale.copy_(torch.from_numpy(np.asarray(scale)).float().clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is None:
            return (self._log(x) - self.center) / self.scale
        h = self.embed(x)
        return h.flatten(2) if x.dim() == 3 else h


def init_lstm(
    lstm: nn.LSTM, scheme: str = "chrono", steps: int | None = None, forget_bias: float = 1.0
) -> None:
    """Initialise an LSTM for long inputs.

    chrono (Tallec & Ollivier 2018): forget-gate biases b_f = log(u), u ~ U(1, steps - 1), and
    input-gate biases -b_f, so that units keep their cell for 1 to `steps` steps at the start
    of training. A constant bias b keeps sigmoid(b) of the cell per step: sigmoid(1) = 0.73,
    and 0.73**100 = 2e-14, so evidence 100 steps back never reaches the loss. Recurrent weights
    start orthogonal (each gate's block), the usual companion. `steps`: the longest sequence
    the LSTM reads in training (None, e.g. when weights are about to be loaded: constant).
    constant: every forget-gate bias `forget_bias` (Jozefowicz et al. 2015), PyTorch's
    uniform weights."""
    hidden = lstm.hidden_size
    chrono = scheme == "chrono" and steps is not None and steps > 2
    if scheme not in ("chrono", "constant"):
        raise ValueError(f"unknown LSTM init {scheme!r}; use chrono or constant")
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("weight_hh") and scheme == "chrono":
                for gate in range(4):
                    nn.init.orthogonal_(param[gate * hidden : (gate + 1) * hidden])
            if name.startswith("bias_hh"):  # gate order: input, forget, cell, output
                param[: 2 * hidden].fill_(0.0)
            elif name.startswith("bias_ih"):
                if chrono:
                    forget = torch.log(torch.empty(hidden).uniform_(1, steps - 1))
                    param[hidden : 2 * hidden].copy_(forget)
                    param[:hidden].copy_(-forget)
                else:
                    param[hidden : 2 * hidden].fill_(forget_bias)
