"""`longseq tuning`: what the search chose per data set x arm beside the untuned settings, and
every trial's valid loss, so a reader sees how much the search moved and how flat it was."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..core.data import atomic_write_bytes
from ..core.plotting import panels, save_png


def tuning_table(chosen_files: list[str | Path], out_csv: str | Path) -> pd.DataFrame:
    """Per data set x arm (results/tuning/<data set>/<arm>/chosen.json): the chosen settings
    and its valid score beside the untuned settings' (trial 0)."""
    rows = []
    for path in chosen_files:
        path = Path(path)
        chosen = json.loads(path.read_text())
        rows.append(
            {
                "dataset": path.parent.parent.name,
                "arm": path.parent.name,
                "trials": chosen["trials"],
                "chosen_trial": chosen["trial"],
                "valid_loss": chosen["valid_loss"],
                "untuned_valid_loss": chosen["untuned_valid_loss"],
                "valid_accuracy": chosen["valid_accuracy"],
                "untuned_valid_accuracy": chosen["untuned_valid_accuracy"],
                "settings": json.dumps(chosen["params"], sort_keys=True),
            }
        )
    table = pd.DataFrame(rows)
    atomic_write_bytes(out_csv, table.to_csv(index=False).encode())
    return table


def plot_tuning(trial_files: list[str | Path], path: str | Path) -> None:
    """Valid loss of every trial, one column per arm and one panel per data set: the chosen
    trial ringed, the untuned settings (trial 0) as a cross."""
    frames = []
    for file in trial_files:
        file = Path(file)
        frames.append(pd.read_csv(file).assign(dataset=file.parent.parent.name, arm=file.parent.name))
    trials = pd.concat(frames)
    datasets = list(dict.fromkeys(trials["dataset"]))
    arms = list(dict.fromkeys(trials["arm"]))
    fig, axes = panels(len(datasets), width=max(4.2, 0.55 * len(arms) + 1.5))
    for ax, ds in zip(axes, datasets):
        part = trials[trials["dataset"] == ds]
        for x, arm in enumerate(arms):
            runs = part[part["arm"] == arm]
            if runs.empty:
                continue
            ax.scatter([x] * len(runs), runs["valid_loss"], s=14, color="grey", alpha=0.6)
            untuned = runs[runs["trial"] == 0]
            ax.scatter([x] * len(untuned), untuned["valid_loss"], marker="x", color="black", s=40, zorder=3)
            best = runs.loc[[runs["valid_loss"].idxmin()]]
            ax.scatter([x], best["valid_loss"], facecolors="none", edgecolors="tab:red", s=90, zorder=4)
        ax.set_xticks(range(len(arms)), arms, rotation=60, ha="right", fontsize=7)
        ax.set_title(ds)
        ax.set_ylabel("best valid loss of the trial")
    fig.suptitle("Search: every trial (grey), untuned settings (×), chosen (red ring)", fontsize=9)
    fig.tight_layout()
    save_png(fig, path)
