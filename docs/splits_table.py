"""The fixed split against resampled splits (docs/results.md, "Resampled splits"): per data set
and split, from the verdict of each (`longseq verdict ... --table <folder>/arms.csv`):
.venv/bin/python docs/splits_table.py results/splits/fixed results/splits/resampled

Every number is read from the two arms.csv files, never typed."""

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
print("\n".join(lines))
