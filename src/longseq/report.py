"""Gather every run's metrics into one table and draw the comparison people look at first."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .data import atomic_write_bytes  # noqa: E402

METRIC_COLUMNS = [
    "train_mode",
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


def _save(fig, path, dpi: int = 110) -> None:
    """A figure as PNG, written atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


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
    _save(fig, path, dpi=120)


def aggregate(metric_files, summary_csv, overview_csv, figure, benchmark_files=()) -> pd.DataFrame:
    table = collect(metric_files, benchmark_files)
    atomic_write_bytes(summary_csv, table.to_csv(index=False).encode())
    atomic_write_bytes(overview_csv, summarize_runs(table).to_csv(index=False, float_format="%.4f").encode())
    plot_accuracy_by_arm(table, figure)
    return table


def describe_datasets(folders: list[str | Path]) -> pd.DataFrame:
    """One row per ingested data set: where it comes from, real or synthetic, its size, classes
    and length spread (steps over all splits) — the table a reader checks first."""
    from . import data

    rows = []
    for folder in folders:
        ds = data.load(folder)
        lengths = pd.Series([n for split in ds.splits.values() for n in split.lengths])
        rows.append(
            {
                "dataset": ds.meta.get("name", Path(folder).name),
                "source": ds.meta.get("source", ""),
                "real": "synthetic" if ds.meta.get("synthetic") else "real",
                "kind": ds.kind,
                "records": "/".join(str(len(ds.splits[s])) for s in data.SPLITS),
                "split": ds.meta.get("split_policy", ""),
                "classes": len(ds.classes),
                "class_names": ", ".join(ds.classes),
                "length_min": int(lengths.min()),
                "length_median": float(lengths.median()),
                "length_max": int(lengths.max()),
            }
        )
    return pd.DataFrame(rows)


def write_dataset_table(folders, out_csv) -> pd.DataFrame:
    table = describe_datasets(folders)
    atomic_write_bytes(out_csv, table.to_csv(index=False).encode())
    return table


# ---------------------------------------------------------------- the report's figures and tables


def _panels(n: int, width: float = 4.2, height: float = 3.8):
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, list(axes[0])


def _plain_log_x(ax) -> None:
    """Log x scale with plain numbers on the major ticks and no crowded minor labels."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    formatter = ScalarFormatter()
    formatter.set_scientific(False)
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _arm_colours(arms: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab20")
    return {arm: cmap(i % 20) for i, arm in enumerate(arms)}


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
    fig, axes = _panels(len(datasets))
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
        _plain_log_x(ax)
        ax.set_xlabel("steps the model reads (mean per sequence)")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1.05)
        ax.set_title(ds)
    handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=min(6, len(handles)), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.88))
    _save(fig, path)


def _strategy(params: str) -> str:
    """The length sweep an arm belongs to, as its reducer declares it (`family`)."""
    from .reducers import family

    return family(json.loads(params))


def plot_accuracy_vs_cost(overview: pd.DataFrame, path: str | Path) -> None:
    """The Pareto view: accuracy against training time (top) and peak memory (bottom) per data
    set; arms on the front (no other arm is both cheaper and more accurate) are ringed and joined."""
    datasets = list(dict.fromkeys(overview["dataset"]))
    colours = _arm_colours(list(dict.fromkeys(overview["arm"])))
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
                _plain_log_x(ax)
            ax.set_xlabel(label)
            ax.set_ylabel("test accuracy")
            ax.set_title(ds if row == 0 else "")
    handles = {label: h for ax in axes[0] for h, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=min(8, len(handles)), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    _save(fig, path)


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
    colours = _arm_colours(arms)
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
    fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=min(8, len(handles)), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    _save(fig, path)


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
    _save(fig, path)


def read_overview(path: str | Path) -> pd.DataFrame:
    """A study's overview table, from its results folder or the file itself."""
    path = Path(path)
    path = path / "overview.csv" if path.is_dir() else path
    if not path.exists():
        from .data import DataError

        raise DataError(f"{path}: no overview table; give a results folder or its overview.csv")
    return pd.read_csv(path)


def compare_text(diff: pd.DataFrame) -> str:
    """`compare`'s table as the terminal shows it: mean ± std per side, the change (starred
    beyond the seeds' combined spread) and the time ratio."""

    def mean_std(side):
        return (
            diff[f"accuracy_mean_{side}"].map("{:.3f}".format)
            + " ± "
            + diff[f"accuracy_std_{side}"].fillna(0).map("{:.3f}".format)
        )

    shown = diff.assign(
        A=mean_std("a"),
        B=mean_std("b"),
        change=diff["accuracy_change"].map("{:+.3f}".format)
        + diff["beyond_spread"].map({True: " *", False: ""}),
        time=diff["time_ratio"].map("{:.2f}x".format),
    )
    shown.loc[shown["only_in"] == "A", ["B", "change", "time"]] = "–"
    shown.loc[shown["only_in"] == "B", ["A", "change", "time"]] = "–"
    table = shown[["dataset", "arm", "A", "B", "change", "time", "only_in"]].to_string(index=False)
    return f"(* : the change exceeds the seeds' combined spread; time: B / A)\n{table}"


def compare(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two overview tables side by side per data set x arm, like `dvc exp diff`: accuracy and
    cost in each, their differences, and which rows exist in only one."""
    keys = ["dataset", "arm"]
    cols = ["accuracy_mean", "accuracy_std", "train_seconds_mean", "peak_memory_mb_mean"]
    merged = a[keys + cols].merge(b[keys + cols], on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    merged["only_in"] = merged["_merge"].map({"left_only": "A", "right_only": "B", "both": ""})
    merged["accuracy_change"] = merged["accuracy_mean_b"] - merged["accuracy_mean_a"]
    merged["time_ratio"] = merged["train_seconds_mean_b"] / merged["train_seconds_mean_a"]
    spread = (merged["accuracy_std_a"].fillna(0) ** 2 + merged["accuracy_std_b"].fillna(0) ** 2) ** 0.5
    merged["beyond_spread"] = merged["accuracy_change"].abs() > spread
    return merged.drop(columns="_merge")


def markdown_tables(overview: pd.DataFrame) -> str:
    """The overview as the two Markdown tables the docs show, so that published numbers are
    the study's own output: test accuracy (mean ± std over seeds, best per data set in bold,
    ↑n where n seeds were still improving when the budget ended) and macro-F1; then what each
    arm read and cost (steps per sequence · updates used of the budget · training s · peak MB)."""
    datasets = list(dict.fromkeys(overview["dataset"]))
    arms = list(dict.fromkeys(overview["arm"]))
    cell = {(r.dataset, r.arm): r for r in overview.itertuples()}
    best = overview.loc[overview.groupby("dataset", sort=False)["accuracy_mean"].idxmax()]
    best = dict(zip(best["dataset"], best["arm"]))
    head = "| arm | " + " | ".join(datasets) + " |\n|---|" + "---|" * len(datasets) + "\n"

    def row(arm, fmt):
        cells = []
        for ds in datasets:
            r = cell.get((ds, arm))
            cells.append("–" if r is None else fmt(r, best[ds] == arm))
        return f"| `{arm}` | " + " | ".join(cells) + " |\n"

    def accuracy(r, is_best):
        text = f"{r.accuracy_mean:.3f} ± {0 if pd.isna(r.accuracy_std) else r.accuracy_std:.3f}"
        text = f"**{text}**" if is_best else text
        improving = int(getattr(r, "still_improving", 0) or 0)
        return text + (f" ↑{improving}" if improving else "")

    def f1(r, _):
        return f"{r.macro_f1_mean:.3f} ± {0 if pd.isna(r.macro_f1_std) else r.macro_f1_std:.3f}"

    def cost(r, _):
        return (
            f"{r.mean_steps:.0f} · {r.updates_mean:.0f}/{r.max_updates:.0f} · "
            f"{r.train_seconds_mean:.1f} s · {r.peak_memory_mb_mean:.0f} MB"
        )

    majority = "| *majority class (train's, on test)* | " + " | ".join(
        f"{overview[overview['dataset'] == ds]['majority_baseline'].iloc[0]:.3f}" for ds in datasets
    ) + " |\n"
    return (
        "Test accuracy, mean ± std over seeds (↑n: n seeds still improving when the budget ended):\n\n"
        + head + "".join(row(a, accuracy) for a in arms) + majority
        + "\nMacro-F1, mean ± std over seeds:\n\n" + head + "".join(row(a, f1) for a in arms)
        + "\nSteps read per sequence · optimiser updates used / budget · training s · peak memory:\n\n"
        + head + "".join(row(a, cost) for a in arms)
    )


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


def _run_settings(history_file: Path, arm_params: str, records: str) -> str:
    """What makes two runs the same experiment: the data set's split sizes, the arm's reduction
    and model options, and the model and training settings the run actually used."""
    history = json.loads(history_file.read_text())
    config = dict(history["config"])
    if not str(history.get("device", "cpu")).startswith("cuda"):
        config.pop("amp", None)  # autocast acts on CUDA only; a CPU run is float32 either way
    return json.dumps([records, json.loads(arm_params), history["model"], config], sort_keys=True)


def tuned_vs_untuned(tuned: str | Path, untuned: str | Path) -> pd.DataFrame:
    """Each tuned arm (a study with `tune:`) beside the untuned study's arm run with exactly its
    trial 0, the settings the search started from, so the difference is what the search bought.
    Arms are paired by those settings, not by name: an untuned arm with another model, budget
    or data (IMDB's subsample against all of it) is not its counterpart, and none is shown."""
    tuned, untuned = Path(tuned), Path(untuned)
    chosen = pd.read_csv(tuned / "tuning" / "chosen.csv")
    overviews = {side: read_overview(side).set_index(["dataset", "arm"]) for side in (tuned, untuned)}
    runs = {side: pd.read_csv(side / "summary.csv") for side in (tuned, untuned)}
    records = {
        side: pd.read_csv(side / "datasets.csv").set_index("dataset")["records"].to_dict()
        for side in (tuned, untuned)
    }

    def settings(side, dataset, arm, history_file):
        run = runs[side][(runs[side]["dataset"] == dataset) & (runs[side]["arm"] == arm)].iloc[0]
        return _run_settings(history_file, run["arm_params"], records[side].get(dataset))

    rows = []
    for c in chosen.itertuples():
        start = settings(tuned, c.dataset, c.arm, tuned / "tuning" / c.dataset / c.arm / "trial0" / "history.json")
        counterpart = None
        candidates = runs[untuned][runs[untuned]["dataset"] == c.dataset].groupby("arm")["seed"].min()
        for arm, seed in candidates.items():
            history = untuned / "models" / c.dataset / arm / f"seed{seed}" / "history.json"
            if history.exists() and settings(untuned, c.dataset, arm, history) == start:
                counterpart = arm
                break
        t = overviews[tuned].loc[(c.dataset, c.arm)]
        row = {
            "dataset": c.dataset,
            "arm": c.arm,
            "tuned_accuracy_mean": t["accuracy_mean"],
            "tuned_accuracy_std": t["accuracy_std"],
            "tuned_seeds": int(t["seeds"]),
            "tuned_still_improving": int(t["still_improving"]),
            "untuned_arm": counterpart,
            "untuned_accuracy_mean": None,
            "untuned_accuracy_std": None,
            "untuned_seeds": None,
            "trials": c.trials,
            "chosen_trial": c.chosen_trial,
            "untuned_valid_loss": c.untuned_valid_loss,
            "chosen_valid_loss": c.valid_loss,
            "settings": c.settings,
            "same_seeds_agree": "–",
        }
        if counterpart is not None:
            u = overviews[untuned].loc[(c.dataset, counterpart)]
            row |= {
                "untuned_accuracy_mean": u["accuracy_mean"],
                "untuned_accuracy_std": u["accuracy_std"],
                "untuned_seeds": int(u["seeds"]),
            }
            if c.chosen_trial == 0:  # the same settings: the seeds both studies ran must agree
                row["same_seeds_agree"] = _same_seeds_agree(
                    runs[tuned], c.dataset, c.arm, runs[untuned], counterpart
                )
        rows.append(row)
    return pd.DataFrame(rows)


def _same_seeds_agree(a: pd.DataFrame, dataset: str, arm_a: str, b: pd.DataFrame, arm_b: str) -> str:
    """'3 of 3': of the seeds both studies trained with the same settings, how many give the
    same test accuracy (all of them, on CPU, if the study is reproducible)."""
    def accuracies(runs, arm):
        return runs[(runs["dataset"] == dataset) & (runs["arm"] == arm)].set_index("seed")["accuracy"]

    x, y = accuracies(a, arm_a), accuracies(b, arm_b)
    common = x.index.intersection(y.index)
    return f"{int((x[common] == y[common]).sum())} of {len(common)}"


def tuned_vs_untuned_markdown(table: pd.DataFrame) -> str:
    def settings(text):
        shown = []
        for name, value in json.loads(text).items():
            value = f"{value:.3g}" if isinstance(value, float) else value
            shown.append(f"{name.split('.', 1)[1]} {value}")
        return ", ".join(shown)

    lines = [
        "| data set | arm | tuned: test accuracy | untuned: test accuracy (its arm) | tuned − untuned "
        "| valid loss untuned → chosen | chosen trial | chosen settings | still improving "
        "| seeds in both, equal |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        tuned = f"{r.tuned_accuracy_mean:.3f} ± {r.tuned_accuracy_std:.3f} ({r.tuned_seeds} seeds)"
        if r.untuned_arm is None or pd.isna(r.untuned_arm):
            untuned, gain = "no run with trial 0's settings", "–"
        else:
            untuned = (
                f"{r.untuned_accuracy_mean:.3f} ± {r.untuned_accuracy_std:.3f} "
                f"({int(r.untuned_seeds)} seeds, `{r.untuned_arm}`)"
            )
            gain = f"{r.tuned_accuracy_mean - r.untuned_accuracy_mean:+.3f}"
        lines.append(
            f"| {r.dataset} | `{r.arm}` | {tuned} | {untuned} | {gain} | {r.untuned_valid_loss:.3f} → "
            f"{r.chosen_valid_loss:.3f} | {r.chosen_trial} of {r.trials} | {settings(r.settings)} "
            f"| {r.tuned_still_improving}/{r.tuned_seeds} | {r.same_seeds_agree} |"
        )
    return "\n".join(lines) + "\n"


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
    fig, axes = _panels(len(datasets), width=max(4.2, 0.55 * len(arms) + 1.5))
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
    _save(fig, path)
