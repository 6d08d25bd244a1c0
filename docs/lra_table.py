"""The long study's rows beside the published Long Range Arena table (docs/results.md, "Long
sequences"), from the aggregate of its runs: .venv/bin/python docs/lra_table.py results/long

The published rows are the papers' own figures (test accuracy %); every longseq row is read
from overview.csv and summary.csv, never typed."""

import sys
from pathlib import Path

import pandas as pd

from longseq.report.comparisons import best_lstm_based

PUBLISHED = [  # test accuracy %, ListOps / Text (issue 30; ../shared/REFERENCE.md)
    ("Transformer", 36.37, 64.27, "Tay et al. 2021, Table 1"),
    ("6-layer tanh RNN, residual blocks", 43.9, 87.2, "Orvieto et al. 2023, Table 1"),
    ("S4", 59.6, 86.8, "Gu et al. 2022; Orvieto et al. 2023, Table 3"),
    ("S4D-LegS", 60.5, 86.2, "Orvieto et al. 2023, Table 3"),
    ("S5", 62.2, 89.3, "Orvieto et al. 2023, Table 3"),
    ("LRU", 60.2, 89.4, "Orvieto et al. 2023, Table 3"),
]
folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/long")
over = pd.read_csv(folder / "overview.csv")


def cell(dataset, arm):
    r = over[(over.dataset == dataset) & (over.arm == arm)]
    if r.empty:
        return "not run"
    r = r.iloc[0]
    std = "" if pd.isna(r.accuracy_std) else f" ± {100 * r.accuracy_std:.1f}"
    flag = f" ↑{int(r.still_improving)}" if r.still_improving else ""
    return f"{100 * r.accuracy_mean:.1f}{std} ({int(r.seeds)} seed{'s' if r.seeds > 1 else ''}){flag}"


def best_lstm(dataset):
    return best_lstm_based(folder, dataset).arm


lines = ["| model | ListOps | Text (bytes) | source |", "|---|---|---|---|"]
lines += [f"| {m} | {l} | {t} | {s} |" for m, l, t, s in PUBLISHED]
study = [
    ("plain LSTM (`full`)", "full", "full"),
    ("plain LSTM, max readout (`full_max_readout`)", "full_max_readout", "full_max_readout"),
    (
        f"best LSTM-based arm (ListOps `{best_lstm('listops')}`, Text `{best_lstm('imdb_bytes')}`)",
        best_lstm("listops"),
        best_lstm("imdb_bytes"),
    ),
    (
        "its front end without the LSTM (`learned_summary_no_lstm`)",
        "learned_summary_no_lstm",
        "learned_summary_no_lstm",
    ),
    ("S4D stack (`ssm_baseline`)", "ssm_baseline", "ssm_baseline"),
    ("TF-IDF reference (`reference`)", "reference", "reference"),
]
lines += [
    f"| **longseq**: {name} | {cell('listops', a)} | {cell('imdb_bytes', b)} | this study |"
    for name, a, b in study
]
print("\n".join(lines))
