"""Which CPU kernels a run computes with, recorded in every run and pinnable by the study.

A small LSTM's trained numbers change in their last bits with the instruction set the kernels
use: measured here on one AVX-512 machine, the same training run with oneDNN limited to AVX2
gave valid losses that differ from the native run's in the 8th digit, and such differences grow
over a few hundred updates into different accuracies (up to 0.04 in a data set x arm mean
between two x86-64 machines). `reproducible: portable` pins oneDNN's ISA, PyTorch's own CPU
kernels and MKL's code path to a level every x86-64 machine has, so that two machines give the
same numbers, at a cost in speed (docs/method.md, 'Reproducibility'). GPUs are not covered.

No torch at import: the settings must be in the environment before torch is imported.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

LEVELS = ("native", "portable")
PORTABLE = {
    "ONEDNN_MAX_CPU_ISA": "SSE41",  # oneDNN (the fused LSTM, convolutions): SSE4.1 kernels
    "ATEN_CPU_CAPABILITY": "default",  # PyTorch's own vectorised kernels: the baseline build
    "MKL_CBWR": "COMPATIBLE",  # MKL (matrix products): its conditional numerical reproducibility
}
FLAGS = ("sse4_1", "avx2", "avx512f", "avx512_bf16", "amx_tile")


def pinned(level: str) -> dict[str, str]:
    """The environment settings of a reproducibility level (none for native)."""
    if level not in LEVELS:
        raise ValueError(f"reproducible: {level!r}; use one of {LEVELS}")
    return dict(PORTABLE) if level == "portable" else {}


def _cpuinfo() -> dict[str, str]:
    """The first processor's entries of /proc/cpuinfo (empty off Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    pairs = (line.split(":", 1) for line in text.split("\n\n")[0].splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def cpu_flags() -> list[str]:
    """The instruction-set flags of this CPU that decide which kernels run."""
    present = set(_cpuinfo().get("flags", "").split())
    return [flag for flag in FLAGS if flag in present]


def cpu_model() -> str:
    return _cpuinfo().get("model name") or platform.machine()


def record() -> dict:
    """What a run's numbers depend on besides its settings: the CPU, the kernel level PyTorch
    chose and the settings that pin it (None where unset)."""
    import torch

    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": str(torch.__version__),  # a str subclass that weights_only loading refuses
        **{name: os.environ.get(name) for name in PORTABLE},
    }
