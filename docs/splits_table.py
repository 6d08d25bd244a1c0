"""The fixed split against resampled splits (docs/results.md, "Resampled splits"): per data set
and split, from the verdict of each (`longseq verdict ... --table <folder>/arms.csv`) and its
aggregate (`overview.csv`):
.venv/bin/python docs/splits_table.py results/splits/fixed results/splits/resampled

Every number is read from those files, never typed."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

folders = {"fixed": Path(sys.argv[1]), "resampled": Path(sys.argv[2])}


def row(split: str, table: pd.DataFrame) -> str:
    arms = table[table["family"] != "reference"]
    best = arms[arms["best"]].iloc[0]
    others = arms[~arms["best"]]
    reference = table[table["family"] == "reference"]
    width = np.median(others["gap_high"] - others["gap_low"])
    gap = "–"
    if len(reference) and not pd.isna(reference.iloc[0]["gap_to_best_lstm"]):
        r = reference.iloc[0]
        gap = f"{r['mean']:.3f}; {r['gap_to_best_lstm']:+.3f} ({r['gap_low']:+.3f} to {r['gap_high']:+.3f})"
    plan = others["seeds_for_margin"].min() if "seeds_for_margin" in others else np.nan
    return (
        f"| {best['dataset']} | {split} | `{best['arm']}` {best['mean']:.3f} "
        f"({best['interval_low']:.3f}–{best['interval_high']:.3f}) | {int(others['worse'].sum())} of {len(others)} "
        f"| {int(others['within_margin'].sum())} | {width:.3f} | "
        f"{'none up to 100' if not np.isfinite(plan) else f'{plan:.0f}'} | {gap} |"
    )


tables = {split: pd.read_csv(folder / "arms.csv") for split, folder in folders.items()}
lines = [
    "| data set | split | best arm (95% interval) | arms shown worse | shown within 0.02 "
    "| median width of a gap's simultaneous interval | seeds that would show one within 0.02 "
    "| reference; its gap to the best LSTM-based arm (95% paired) |",
    "|---|---|---|---|---|---|---|---|",
]
for dataset in tables["fixed"]["dataset"].unique():
    for split, table in tables.items():
        lines.append(row(split, table[table["dataset"] == dataset]))
lines.append("")
for dataset in tables["fixed"]["dataset"].unique():
    called = {
        split: set(t.loc[(t["dataset"] == dataset) & t["worse"].astype(bool), "arm"])
        for split, t in tables.items()
    }
    only = {
        split: sorted(arms - called[other])
        for (split, arms), other in zip(called.items(), ("resampled", "fixed"))
    }
    lines.append(
        f"- {dataset}: calls changed: {len(only['fixed']) + len(only['resampled'])}; called worse with the fixed "
        f"split only: {', '.join(only['fixed']) or 'none'}; with resampled splits only: "
        f"{', '.join(only['resampled']) or 'none'}."
    )
overviews = {split: pd.read_csv(folder / "overview.csv") for split, folder in folders.items()}
datasets = list(tables["fixed"]["dataset"].unique())
lines += ["", "| arm | " + " | ".join(f"{d} {split}" for d in datasets for split in folders) + " |"]
lines.append("|---|" + "---|" * (len(datasets) * len(folders)))
for arm in overviews["fixed"]["arm"].unique():
    cells = []
    for dataset in datasets:
        for over in overviews.values():
            r = over[(over["dataset"] == dataset) & (over["arm"] == arm)].iloc[0]
            flag = f" ↑{int(r['still_improving'])}" if r["still_improving"] else ""
            cells.append(f"{r['accuracy_mean']:.3f} ± {r['accuracy_std']:.3f}{flag}")
    lines.append(f"| {arm} | " + " | ".join(cells) + " |")
print("\n".join(lines))
