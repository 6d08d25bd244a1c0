"""`longseq figures`: the report's results table, accuracy against steps read and against cost,
and the learning curves (confusion matrices and the search's figure are steps of their own:
longseq.report.confusion, longseq.report.tuning)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..core.data import atomic_write_bytes
from ..core.plotting import arm_colours, panels, plain_log_x, plt, save_png


def results_table_html(overview: pd.DataFrame, path: str | Path) -> None:
    """Accuracy mean ± std over seeds, one row per arm and one column per data set, the best
    arm of each data set in bold, the majority-class rate as the last row."""
    datasets = list(dict.fromkeys(overview["dataset"]))
    arms = list(dict.fromkeys(overview["arm"]))
    best = overview.loc[overview.groupby("dataset", sort=False)["accuracy_mean"].idxmax()]
    best = dict(zip(best["dataset"], best["arm"]))
    cell = {(r.dataset, r.arm): r for r in overview.itertuples()}
    rows = []
    for arm in arms:
        tds = []
        for ds in datasets:
            r = cell.get((ds, arm))
            if r is None:
                tds.append("<td>–</td>")
                continue
            spread = 0.0 if pd.isna(r.accuracy_std) else r.accuracy_std
            text = f"{r.accuracy_mean:.3f} ± {spread:.3f}"
            if getattr(r, "still_improving", 0):
                text += f" <span title='{int(r.still_improving)} of {r.seeds} seeds still improving when the budget ended'>↑{int(r.still_improving)}</span>"
            tds.append(f"<td><b>{text}</b></td>" if best[ds] == arm else f"<td>{text}</td>")
        rows.append(f"<tr><th>{arm}</th>{''.join(tds)}</tr>")
    majority = [
        f"<td>{overview[overview['dataset'] == ds]['majority_baseline'].iloc[0]:.3f}</td>" for ds in datasets
    ]
    rows.append(f"<tr><th><i>majority class</i></th>{''.join(majority)}</tr>")
    head = "".join(f"<th>{ds}</th>" for ds in datasets)
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>longseq results</title><style>"
        "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:4px 8px;text-align:right}th{background:#f4f4f4}</style></head><body>"
        "<h3>Test accuracy, mean ± standard deviation over seeds</h3>"
        "<p>↑n: n seeds were still improving when the update budget ended them (their best "
        "valid loss was their last evaluation): the arm may be worth more with a larger budget.</p>"
        f"<table id='results'><tr><th>arm</th>{head}</tr>{''.join(rows)}</table></body></html>"
    )
    atomic_write_bytes(path, html.encode())


def plot_accuracy_vs_steps(table: pd.DataFrame, path: str | Path) -> None:
    """Accuracy against the steps the LSTM reads: arms of one strategy (truncate first/last,
    sampled steps/windows) form a line over their lengths; every other arm is one point."""
    datasets = list(table["dataset"].cat.categories)
    fig, axes = panels(len(datasets))
    means = table.groupby(["dataset", "arm"], observed=True).agg(
        acc=("accuracy", "mean"), steps=("mean_steps", "mean"), params=("arm_params", "first")
    )
    for ax, ds in zip(axes, datasets):
        part = means.loc[ds].reset_index()
        family = part["params"].map(_strategy)
        for name, group in part.groupby(family, sort=False):
            group = group.sort_values("steps")
            if name == "other":
                ax.scatter(group["steps"], group["acc"], color="grey", s=18, label="other arms")
            else:
                ax.plot(group["steps"], group["acc"], "o-", label=name, markersize=4)
        ax.axhline(table[table["dataset"] == ds]["majority_baseline"].iloc[0], color="grey", ls="--", lw=1)
        plain_log_x(ax)
        ax.set_xlabel("steps the model reads (mean per sequence)")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1.05)
        ax.set_title(ds)
    handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels())}
    fig.tight_layout(rect=(0, 0, 1, figure_legend(fig, handles)))
    save_png(fig, path)


def _strategy(params: str) -> str:
    """The length sweep an arm belongs to, as its reducer declares it (`family`)."""
    from ..reducers import family

    return family(json.loads(params))


def plot_accuracy_vs_cost(overview: pd.DataFrame, path: str | Path) -> None:
    """The Pareto view: accuracy against training time (top) and peak memory (bottom) per data
    set; arms on the front (no other arm is both cheaper and more accurate) are ringed and joined."""
    datasets = list(dict.fromkeys(overview["dataset"]))
    colours = arm_colours(list(dict.fromkeys(overview["arm"])))
    fig, axes = plt.subplots(2, len(datasets), figsize=(4.2 * len(datasets), 7.2), squeeze=False)
    for col, ds in enumerate(datasets):
        part = overview[overview["dataset"] == ds]
        for row, (cost, label) in enumerate(
            [("train_seconds_mean", "training time (s)"), ("peak_memory_mb_mean", "peak memory (MB)")]
        ):
            ax = axes[row][col]
            for r in part.itertuples():
                ax.scatter(
                    getattr(r, cost), r.accuracy_mean, color=colours[r.arm], s=30, label=r.arm, zorder=3
                )
            front = part.sort_values([cost, "accuracy_mean"], ascending=[True, False])
            front = front[front["accuracy_mean"] >= front["accuracy_mean"].cummax()]
            ax.plot(front[cost], front["accuracy_mean"], color="black", lw=1, zorder=2)
            ax.scatter(
                front[cost], front["accuracy_mean"], s=110, facecolors="none", edgecolors="black", zorder=4
            )
            if row == 0:
                plain_log_x(ax)
            ax.set_xlabel(label)
            ax.set_ylabel("test accuracy")
            ax.set_title(ds if row == 0 else "")
    handles = {label: h for ax in axes[0] for h, label in zip(*ax.get_legend_handles_labels())}
    fig.tight_layout(rect=(0, 0, 1, figure_legend(fig, handles)))
    save_png(fig, path)


def figure_legend(fig, handles: dict) -> float:
    """One legend above the panels, in as many columns as fit the figure's width (a fixed count
    cut the long study's legend off at both sides); returns where the panels' area must end."""
    width, height = fig.get_size_inches()
    per_column = 0.06 * max(len(label) for label in handles) + 0.5  # inches, at 8 pt
    ncol = max(1, min(len(handles), int(width / per_column)))
    rows = -(-len(handles) // ncol)
    fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=ncol, fontsize=8)
    return 1 - (0.15 + 0.17 * rows) / height


def collect_histories(files: list[str | Path]) -> pd.DataFrame:
    """Every valid evaluation of every run (results/models/<data set>/<arm>/seed<N>/history.json)."""
    rows = []
    for path in files:
        path = Path(path)
        history = json.loads(path.read_text())
        seed, arm, ds = path.parent.name, path.parent.parent.name, path.parent.parent.parent.name
        budget = history.get("config", {}).get("max_updates")
        for evaluation in history["evaluations"]:
            rows.append(
                {"dataset": ds, "arm": arm, "seed": int(seed.removeprefix("seed")), "max_updates": budget}
                | evaluation
            )
    return pd.DataFrame(rows)


def plot_learning_curves(
    histories: pd.DataFrame, arms: list[str], path: str | Path, datasets: list[str] | None = None
) -> None:
    """Per data set: valid accuracy (top) and valid loss (bottom) against optimiser updates,
    mean over the seeds still training at that point (early stopping ends runs at different
    updates); the budget's end is dashed: a curve still falling there was cut short."""
    datasets = datasets or list(dict.fromkeys(histories["dataset"]))
    colours = arm_colours(arms)
    fig, axes = plt.subplots(
        2, len(datasets), figsize=(4.2 * len(datasets), 6.6), squeeze=False, sharex="col"
    )
    for col, ds in enumerate(datasets):
        part = histories[histories["dataset"] == ds]
        for arm in arms:
            curve = part[part["arm"] == arm].groupby("update")[["valid_accuracy", "valid_loss"]].mean()
            if curve.empty:
                continue
            axes[0][col].plot(curve.index, curve["valid_accuracy"], color=colours[arm], label=arm)
            axes[1][col].plot(curve.index, curve["valid_loss"], color=colours[arm])
        if not part.empty:  # the budget (the same for every arm of a data set)
            budget = part["max_updates"].max() if part["max_updates"].notna().any() else part["update"].max()
            for ax in axes[:, col]:
                ax.axvline(budget, color="grey", ls="--", lw=1)
        axes[0][col].set_title(ds)
        axes[0][col].set_ylim(0, 1.05)
        axes[0][col].set_ylabel("valid accuracy")
        axes[1][col].set_ylabel("valid loss")
        axes[1][col].set_xlabel("optimiser updates")
    handles = {label: h for ax in axes[0] for h, label in zip(*ax.get_legend_handles_labels())}
    fig.tight_layout(rect=(0, 0, 1, figure_legend(fig, handles)))
    save_png(fig, path)
