"""The state-space baseline: a stack of diagonal linear state-space layers (S4D, Gu et al. 2022)
with a mean over the valid steps; not an LSTM, the field's long-sequence model beside them.

Each layer runs, per channel, x_k = exp(dt A) x_{k-1} + B̄ u_k, y_k = 2 Re(C x_k) + D u_k with a
diagonal complex A, zero-order hold (B̄ = (exp(dt A) - 1) / A, B = 1), A and dt initialised as
published (S4D-Lin: A_n = -1/2 + i pi n; S4D-Inv: imag N/pi (N/(2n+1) - 1); dt log-uniform in
[0.001, 0.1]). The recurrence is linear and time-invariant, so its output is the convolution of
the input with the kernel K_l = 2 Re(C B̄ exp(dt A)^l), computed by FFT in O(L log L): the fast
path (tests check it against a step-by-step recurrence). Padding is never read: every layer's
input is zeroed past each record's length, so the causal direction never sees it and the
backward one (bidirectional) sees zeros, exactly as for the record alone; position-wise layers
(LayerNorm, GLU) and the pooled mean read valid steps only. As in the S4 recipe, A and dt learn
at lr min(lr, 0.001) without weight decay.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..data import Dataset, Split
from ..settings import ModelConfig
from ._blocks import StepInputs

OPTIONS = {
    "width": {"type": "integer", "minimum": 1, "default": 64, "description": "channels of each layer (d_model)"},
    "layers": {"type": "integer", "minimum": 1, "default": 4, "description": "stacked S4D layers"},
    "state": {"type": "integer", "minimum": 2, "default": 64, "description": "state size N per channel"},
    "state_init": {"enum": ["lin", "inv"], "default": "lin", "description": "S4D-Lin or S4D-Inv init of A"},
    "bidirectional": {
        "type": "boolean",
        "default": True,
        "description": "each layer also reads the sequence backwards (as in the published LRA runs)",
    },
}
SSM_LR = 1e-3  # A and dt: the S4 recipe's learning rate (or the arm's, if lower), no weight decay


class S4DKernel(nn.Module):
    """The convolution kernel of `channels` diagonal state spaces of size `state` (N/2 complex
    conjugate pairs, hence 2 Re)."""

    def __init__(self, channels: int, state: int, init: str = "lin") -> None:
        super().__init__()
        half = state // 2
        log_dt = torch.rand(channels) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)
        n = torch.arange(half, dtype=torch.float32)
        imag = math.pi * n if init == "lin" else state / math.pi * (state / (2 * n + 1) - 1)
        self.log_dt = nn.Parameter(log_dt)
        self.log_a_real = nn.Parameter(torch.full((channels, half), math.log(0.5)))
        self.a_imag = nn.Parameter(imag.repeat(channels, 1))
        self.c = nn.Parameter(torch.view_as_real(torch.randn(channels, half, dtype=torch.cfloat) * 0.5**0.5))

    def discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(dt A, C B̄, A): the discretised state matrix's log and the input-output weight."""
        a = torch.complex(-torch.exp(self.log_a_real), self.a_imag)
        dt_a = a * torch.exp(self.log_dt)[:, None]
        return dt_a, torch.view_as_complex(self.c) * (torch.exp(dt_a) - 1) / a, a

    def forward(self, length: int) -> torch.Tensor:
        dt_a, cb, _ = self.discrete()
        powers = torch.exp(dt_a[..., None] * torch.arange(length, device=dt_a.device))  # [H, N/2, L]
        return 2 * torch.einsum("hn,hnl->hl", cb, powers).real


def causal_convolution(u: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """y[..., t] = sum_{s <= t} k[..., t - s] u[..., s] by FFT, zero-padded to 2L (no wrap)."""
    length = u.shape[-1]
    y = torch.fft.irfft(torch.fft.rfft(u, n=2 * length) * torch.fft.rfft(k, n=2 * length), n=2 * length)
    return y[..., :length]


class S4DLayer(nn.Module):
    """S4D convolution (+ D skip) -> GELU -> dropout -> position-wise linear with GLU ->
    residual, LayerNorm (pre-norm)."""

    def __init__(self, width: int, state: int, init: str, bidirectional: bool, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.kernels = nn.ModuleList(S4DKernel(width, state, init) for _ in range(1 + bidirectional))
        self.d = nn.Parameter(torch.randn(len(self.kernels), width))
        self.dropout = nn.Dropout(dropout)
        self.mix = nn.Linear(width * len(self.kernels), 2 * width)

    def forward(self, h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """h [B, L, H] -> [B, L, H]; `valid` [B, L, 1] zeroes padding before anything reads it."""
        u = (self.norm(h) * valid).transpose(1, 2).float()  # [B, H, L]
        outputs = []
        with torch.autocast(u.device.type, enabled=False):  # FFTs in float32: no bfloat16 FFT
            for direction, kernel in enumerate(self.kernels):
                x = u if direction == 0 else u.flip(-1)  # backward: padding, zeroed, comes first
                y = causal_convolution(x, kernel(u.shape[-1])) + self.d[direction][:, None] * x
                outputs.append(y if direction == 0 else y.flip(-1))
        y = self.dropout(nn.functional.gelu(torch.cat(outputs, 1).transpose(1, 2)))
        return h + self.dropout(nn.functional.glu(self.mix(y), dim=-1))


class S4DClassifier(nn.Module):
    """Step inputs -> linear to `width` -> S4D layers -> LayerNorm -> mean over valid steps -> linear."""

    def __init__(self, kind: str, n_inputs: int, n_classes: int, cfg: ModelConfig, streams: int = 1) -> None:
        super().__init__()
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        self.encode = nn.Linear(self.inputs.width, cfg.width)
        self.layers = nn.ModuleList(
            S4DLayer(cfg.width, cfg.state, cfg.state_init, cfg.bidirectional, cfg.dropout)
            for _ in range(cfg.layers)
        )
        self.norm = nn.LayerNorm(cfg.width)
        self.head = nn.Linear(cfg.width, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def parameter_groups(self, lr: float, weight_decay: float) -> list[dict]:
        """A and dt at the S4 recipe's rate without weight decay; everything else as the arm says."""
        names = ("log_dt", "log_a_real", "a_imag")
        ssm = [p for name, p in self.named_parameters() if name.split(".")[-1] in names]
        ids = {id(p) for p in ssm}
        rest = [p for p in self.parameters() if id(p) not in ids]
        return [
            {"params": rest, "lr": lr, "weight_decay": weight_decay},
            {"params": ssm, "lr": min(lr, SSM_LR), "weight_decay": 0.0},
        ]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.encode(self.inputs(x))
        valid = (torch.arange(h.shape[1], device=h.device)[None, :] < lengths[:, None])[..., None]
        for layer in self.layers:
            h = layer(h, valid.to(h.dtype))
        h = self.norm(h) * valid
        return self.head(h.sum(1) / lengths[:, None].to(h.dtype))


def build(ds: Dataset, cfg: ModelConfig, n_inputs: int, streams: int, steps: int | None) -> nn.Module:
    return S4DClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams)
