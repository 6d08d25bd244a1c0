"""The signals study's table (docs/results.md, "Signal sets the study never tuned on"): per
data set its best LSTM-based arm, the learned summarizer with and without its LSTM, with its head
reading the front end beside the LSTM (skip) and with its scaling fixed, and MiniRocket beside, from the aggregate of its runs and the scaling choices:
.venv/bin/python docs/signals_table.py results/signals

Every number is read from overview.csv, summary.csv and results/scaling/, never typed."""

import json
import sys
from pathlib import Path

import pandas as pd

from longseq.report.comparisons import best_lstm_based

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/signals")
over = pd.read_csv(folder / "overview.csv")


def row(dataset, arm):
    r = over[(over.dataset == dataset) & (over.arm == arm)]
    return None if r.empty else r.iloc[0]


def cell(r):
    if r is None:
        return "not run"
    std = "" if pd.isna(r.accuracy_std) else f" ± {r.accuracy_std:.3f}"
    flag = f" ↑{int(r.still_improving)}" if r.still_improving else ""
    return f"{r.accuracy_mean:.3f}{std}{flag}"


def scaling(dataset):
    path = folder.parent / "scaling" / f"{dataset}.json"
    return json.loads(path.read_text())["chosen"] if path.exists() else "–"


lines = [
    "| data set (steps) | best LSTM-based arm | `learned_summary` (auto) | without its LSTM | with skip "
    "| with `standard` scaling | scaling chosen | MiniRocket | best LSTM − MiniRocket |",
    "|---|---|---|---|---|---|---|---|---|",
]
for dataset in dict.fromkeys(over.dataset):
    best, reference = best_lstm_based(folder, dataset), row(dataset, "reference")
    steps = row(dataset, "full")
    gap = "–" if best is None or reference is None else f"{best.accuracy_mean - reference.accuracy_mean:+.3f}"
    lines.append(f"| {dataset} ({steps.mean_steps:,.0f}) | " if steps is not None else f"| {dataset} | ")
    lines[-1] += (
        " | ".join(
            [
                "–" if best is None else f"`{best.arm}` {cell(best)}",
                cell(row(dataset, "learned_summary")),
                cell(row(dataset, "learned_summary_no_lstm")),
                cell(row(dataset, "learned_summary_skip")),
                cell(row(dataset, "learned_summary_standard")),
                scaling(dataset),
                cell(reference),
                gap,
            ]
        )
        + " |"
    )
print("\n".join(lines))
