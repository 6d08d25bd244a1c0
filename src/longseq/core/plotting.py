"""Figures written the same way everywhere: matplotlib without a display (Agg), PNGs written
atomically, the panel layout and colours every figure of the report shares."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .data import atomic_write_bytes


def save_png(fig, path, dpi: int = 110) -> None:
    """A figure as PNG, written atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def panels(n: int, width: float = 4.2, height: float = 3.8):
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, list(axes[0])


def plain_log_x(ax) -> None:
    """Log x scale with plain numbers on the major ticks and no crowded minor labels."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    formatter = ScalarFormatter()
    formatter.set_scientific(False)
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.set_minor_formatter(NullFormatter())


def arm_colours(arms: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab20")
    return {arm: cmap(i % 20) for i, arm in enumerate(arms)}
