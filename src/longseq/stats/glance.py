"""The answer at a glance, above the verdict's paragraphs: one table row per data set and one
forest plot (every arm's mean with its simultaneous interval, the reference and the
train-majority class as lines, the recommended arm marked).

A reader of the first page wants which arm to use, how sure that is, how far the field's
standard is, and whether an LSTM was needed at all; the paragraphs below it say why.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd


def row(table: pd.DataFrame, reference: dict | None, scaling: str | None, bag: dict | None) -> dict:
    """One data set's line, from its verdict table (arms, best first), its reference line and
    the best LSTM-based arm's paired gap to the bag (`verdict.bag_gap`)."""
    best = table[table["best"]].iloc[0]
    pick = table[table["recommended"]].iloc[0]
    level = f"{1 - best['alpha']:.0%}"
    why = (
        "the best"
        if pick["arm"] == best["arm"]
        else f"within {best['margin']:g} of the best and cheapest by inference"
    )
    out = {
        "data set": best["dataset"],
        "best arm": f"{best['arm']} {best['mean']:.3f} ({best['interval_low']:.3f}–{best['interval_high']:.3f})",
        "recommended": f"{pick['arm']}: {why}",
        "reference, and its gap to the best LSTM-based arm": "—",
        "LSTM beat the bag?": _lstm_vs_bag(bag, best["margin"], level),
        "scaling": scaling or "—",
    }
    if reference and reference.get("best_lstm_arm"):
        out["reference, and its gap to the best LSTM-based arm"] = (
            f"{reference['method']} {reference['mean']:.3f}; {reference['gap_to_best_lstm']:+.3f} "
            f"({reference['gap_low']:+.3f} to {reference['gap_high']:+.3f}, {level} paired)"
        )
    elif reference:
        out["reference, and its gap to the best LSTM-based arm"] = (
            f"{reference['method']} {reference['mean']:.3f}"
        )
    return out


def _lstm_vs_bag(bag: dict | None, margin: float, level: str) -> str:
    """Whether the best arm with an LSTM was shown better than the non-recurrent bag of steps."""
    if bag is None:
        return "no bag arm, or no LSTM arm"
    gap = f"{bag['arm']} {bag['gap']:+.3f} ({bag['low']:+.3f} to {bag['high']:+.3f}, {level} paired)"
    if bag["low"] > 0:
        return f"yes: {gap}"
    if bag["high"] < 0:
        return f"no, the bag is better: {gap}"
    if bag["high"] < margin and bag["low"] > -margin:
        return f"no, the bag is as good: {gap}"
    return f"not shown either way: {gap}"


def markdown(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


# Snakemake's report (9.27) centres its start page vertically in a scrolling box: a page taller
# than the window loses its top, out of reach of the scroll bar; and it sets the text in a
# 512-pixel column. The first page starts at the top and reads wide (tests/test_workflow.py
# checks in Chromium that the table and the figure are on the first screen).
LAYOUT = [
    ".. raw:: html",
    "",
    "   <style>div.h-screen.overflow-auto.items-center { align-items: flex-start; }",
    "   div.prose.max-w-lg { max-width: 64rem; }</style>",
    "",
]


def rst(rows: list[dict], figure: Path | None) -> str:
    """A list-table and the forest plot inlined (a data URI: the report is one self-contained file)."""
    columns = list(rows[0])
    lines = [*LAYOUT, "At a glance", "===========", "", ".. list-table::", "   :header-rows: 1", ""]
    for cells in [columns, *([str(r[c]) for c in columns] for r in rows)]:
        lines += [f"   {'*' if i == 0 else ' '} - {cell}" for i, cell in enumerate(cells)]
    if figure is not None:
        data = base64.b64encode(Path(figure).read_bytes()).decode()
        # a URI may run over several lines (docutils joins them): each stays under its line-length limit
        chunks = [data[i : i + 76] for i in range(0, len(data), 76)]
        lines += ["", f".. image:: data:image/png;base64,{chunks[0]}", *(f"   {c}" for c in chunks[1:])]
        lines += ["   :width: 100%", ""]
    return "\n".join(lines) + "\n"


def plot_forest(tables: list[pd.DataFrame], path) -> None:
    """Per data set a panel: each arm's mean and simultaneous interval (dot and bar), the
    recommended arm filled in red, the reference and the train-majority class as lines."""
    from ..core.plotting import plt, save_png

    columns = min(len(tables), 4)  # rows of four panels: the figure stays on a screen's width
    rows = -(-len(tables) // columns)
    height = 1.0 + 0.22 * max(len(t) for t in tables)
    fig, grid = plt.subplots(rows, columns, figsize=(3.4 * columns, height * rows + 0.4), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[len(tables) :]:
        ax.axis("off")
    for ax, table in zip(axes, tables, strict=False):
        arms = table[table["family"] == "arm"].iloc[::-1]
        y = range(len(arms))
        low, high = arms["simultaneous_low"], arms["simultaneous_high"]
        ax.errorbar(arms["mean"], y, xerr=[arms["mean"] - low, high - arms["mean"]], fmt="none", ecolor="0.5")
        colours = ["tab:red" if r else "0.2" for r in arms["recommended"]]
        ax.scatter(arms["mean"], y, c=colours, zorder=3, s=18)
        ax.set_yticks(
            list(y), [f"{a} ◀" if r else a for a, r in zip(arms["arm"], arms["recommended"], strict=True)]
        )
        ax.axvline(arms["majority_baseline"].iloc[0], color="0.6", ls=":", label="train-majority class")
        reference = table[table["family"] != "arm"]
        if len(reference):
            ax.axvline(reference["mean"].iloc[0], color="tab:blue", ls="--", label="reference")
        ax.set_title(arms["dataset"].iloc[0], fontsize=9)
        ax.set_xlabel(arms["metric"].iloc[0].replace("_", "-"), fontsize=8)
        ax.tick_params(labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="upper right", ncols=2, frameon=False)
    fig.suptitle(
        "Each arm's mean and simultaneous interval; ◀ red: recommended", fontsize=9, x=0.02, ha="left"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    save_png(fig, path)
