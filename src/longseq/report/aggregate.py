"""`longseq aggregate`: every run's metrics into one table (summary.csv), its mean and spread
per data set x arm (overview.csv), and the first figure people look at."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..core.data import atomic_write_bytes
from ..core.plotting import plt, save_png

METRIC_COLUMNS = [
    "train_mode",
    "scaling",
    "accuracy",
    "macro_f1",
    "majority_baseline",
    "mean_steps",
    "train_seconds",
    "updates",
    "max_updates",
    "steps_read",
    "inference_flops",
    "train_flops",
    "best_update",
    "best_valid_accuracy",
    "stopped_by",
    "still_improving",
    "peak_memory_mb",
    "peak_reserved_mb",
    "peak_host_rss_mb",
    "n_test_records",
    "device",
    "precision",
]


def read_benchmarks(files: list[str | Path]) -> pd.DataFrame:
    """Snakemake's `benchmark:` files of training jobs (results/benchmarks/train/<data set>/<arm>/
    seed<N>.tsv): wall seconds and peak resident memory of the whole job, as the scheduler saw it."""
    rows = []
    for path in files:
        path = Path(path)
        bench = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "dataset": path.parent.parent.name,
                "arm": path.parent.name,
                "seed": int(path.stem.removeprefix("seed")),
                "job_seconds": float(bench["s"].iloc[-1]),
                "job_max_rss_mb": float(bench["max_rss"].iloc[-1]),
            }
        )
    return pd.DataFrame(rows, columns=["dataset", "arm", "seed", "job_seconds", "job_max_rss_mb"])


def collect(metric_files: list[str | Path], benchmark_files: list[str | Path] = ()) -> pd.DataFrame:
    """One row per data set x arm x seed: the arm's parameters, then the metrics, then the
    training job's benchmark (where given)."""
    rows = []
    for path in metric_files:
        metrics = json.loads(Path(path).read_text())
        arm = metrics["arm_params"]
        rows.append(
            {
                "dataset": metrics["dataset"],
                "arm": metrics["arm"],
                "seed": int(metrics["seed"]),
                "reduce": arm["reduce"],
                "arm_params": json.dumps(arm, sort_keys=True),
            }
            | {k: metrics.get(k) for k in METRIC_COLUMNS}  # runs older than a column: empty
        )
    table = pd.DataFrame(rows)
    # empty on CPU (reserved memory) or in runs older than the column
    for column in ("peak_reserved_mb", "peak_host_rss_mb", "inference_flops", "train_flops"):
        table[column] = pd.to_numeric(table[column])
    if benchmark_files:
        table = table.merge(read_benchmarks(benchmark_files), on=["dataset", "arm", "seed"], how="left")
    # keep the study's own order of data sets and arms (the order of the config)
    for column in ("dataset", "arm"):
        table[column] = pd.Categorical(table[column], categories=list(dict.fromkeys(table[column])))
    return table.sort_values(["dataset", "arm", "seed"]).reset_index(drop=True)


def summarize_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread (sample std) over seeds per data set x arm."""
    grouped = table.groupby(["dataset", "arm"], sort=True, observed=True)
    out = grouped.agg(
        reduce=("reduce", "first"),
        train_mode=("train_mode", "first"),
        seeds=("seed", "count"),
        accuracy_mean=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"),
        macro_f1_mean=("macro_f1", "mean"),
        macro_f1_std=("macro_f1", "std"),
        majority_baseline=("majority_baseline", "first"),
        mean_steps=("mean_steps", "mean"),
        updates_mean=("updates", "mean"),
        max_updates=("max_updates", "first"),
        steps_read_mean=("steps_read", "mean"),
        inference_flops_mean=("inference_flops", "mean"),
        train_flops_mean=("train_flops", "mean"),
        still_improving=("still_improving", "sum"),
        train_seconds_mean=("train_seconds", "mean"),
        peak_memory_mb_mean=("peak_memory_mb", "mean"),
        peak_reserved_mb_mean=("peak_reserved_mb", "mean"),
        device=("device", "first"),
        precision=("precision", "first"),
        **(
            {"job_seconds_mean": ("job_seconds", "mean"), "job_max_rss_mb_mean": ("job_max_rss_mb", "mean")}
            if "job_seconds" in table
            else {}
        ),
    )
    return out.reset_index()


def plot_accuracy_by_arm(table: pd.DataFrame, path: str | Path) -> None:
    """One panel per data set: every seed as a dot, mean +- std as a bar, majority class dashed."""
    datasets = list(table["dataset"].cat.categories)
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 4.2), squeeze=False)
    for ax, name in zip(axes[0], datasets):
        part = table[table["dataset"] == name]
        arms = [a for a in table["arm"].cat.categories if a in set(part["arm"])]
        stats = part.groupby("arm", observed=True)["accuracy"].agg(["mean", "std"]).reindex(arms)
        x = range(len(arms))
        ax.bar(x, stats["mean"], yerr=stats["std"].fillna(0), color="#9ecae1", edgecolor="#3182bd", capsize=3)
        for i, arm in enumerate(arms):
            seeds = part[part["arm"] == arm]["accuracy"]
            ax.scatter([i] * len(seeds), seeds, color="#08306b", s=10, zorder=3)
        ax.axhline(
            part["majority_baseline"].iloc[0],
            color="grey",
            linestyle="--",
            linewidth=1,
            label="majority class",
        )
        ax.set_xticks(list(x), arms, rotation=45, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(name)
        ax.set_ylabel("test accuracy")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="upper right", fontsize=8)
    fig.suptitle("Accuracy by arm (bars: mean ± std over seeds; dots: seeds)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))  # room for the title and the legend above the panels
    save_png(fig, path, dpi=120)


def aggregate(metric_files, summary_csv, overview_csv, figure, benchmark_files=()) -> pd.DataFrame:
    table = collect(metric_files, benchmark_files)
    atomic_write_bytes(summary_csv, table.to_csv(index=False).encode())
    atomic_write_bytes(overview_csv, summarize_runs(table).to_csv(index=False, float_format="%.4f").encode())
    plot_accuracy_by_arm(table, figure)
    return table
