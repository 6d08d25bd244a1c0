"""`longseq confusion`: one confusion matrix per arm of a data set, where a reader sees which
classes an arm mixes up, which accuracy alone hides."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..core.plotting import plt, save_png


def plot_confusions(metric_files: list[str | Path], dataset: str, path: str | Path) -> None:
    """One confusion matrix per arm of one data set, test records summed over seeds, rows
    normalised (each row: where the records of that true class went)."""
    runs = [json.loads(Path(p).read_text()) for p in metric_files]
    runs = [m for m in runs if m["dataset"] == dataset]
    arms = list(dict.fromkeys(m["arm"] for m in runs))
    classes = runs[0]["classes"]
    cols = min(4, len(arms))
    rows = -(-len(arms) // cols)
    size = 1.2 + 0.35 * len(classes)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols + 1, size * rows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, arm in zip(axes.flat, arms):
        counts = sum(pd.DataFrame(m["confusion"]).to_numpy() for m in runs if m["arm"] == arm)
        share = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
        ax.axis("on")
        ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        if len(classes) <= 6:
            for (i, j), value in pd.DataFrame(share).stack().items():
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.6 else "black",
                )
        ticks = range(len(classes))
        labels = classes if len(classes) <= 6 else [str(i) for i in ticks]
        ax.set_xticks(list(ticks), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(list(ticks), labels, fontsize=7)
        ax.set_title(arm, fontsize=8)
    fig.suptitle(
        f"{dataset}: confusion matrices (rows: true class, columns: predicted; all seeds)", fontsize=9
    )
    fig.tight_layout()
    save_png(fig, path)
