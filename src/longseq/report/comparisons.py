"""Study against study, for the docs and for people comparing results folders (`longseq
compare`, `longseq tables`, `longseq tuned-vs`). No workflow rule runs this module, so editing
it reruns nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def read_overview(path: str | Path) -> pd.DataFrame:
    """A study's overview table, from its results folder or the file itself."""
    path = Path(path)
    path = path / "overview.csv" if path.is_dir() else path
    if not path.exists():
        from ..core.data import DataError

        raise DataError(f"{path}: no overview table; give a results folder or its overview.csv")
    return pd.read_csv(path)


def best_lstm_based(folder: str | Path, dataset: str) -> pd.Series | None:
    """The overview row of the data set's most accurate arm whose model has an LSTM (the docs'
    tables beside published figures), or None."""
    from ..stats.verdict import has_lstm

    over = read_overview(folder)
    summary = pd.read_csv(Path(folder) / "summary.csv")
    params = {
        (r.dataset, r.arm): json.loads(r.arm_params)
        for r in summary.itertuples()
        if isinstance(r.arm_params, str)
    }
    rows = over[
        (over.dataset == dataset)
        & over.arm.map(lambda a: a != "reference" and has_lstm({"arm_params": params.get((dataset, a), {})}))
    ]
    # a tie (two arms that ran the same, e.g. auto scaling choosing standard) goes to the first in the study's order
    return rows.loc[rows["accuracy_mean"].idxmax()] if len(rows) else None


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

    majority = (
        "| *majority class (train's, on test)* | "
        + " | ".join(
            f"{overview[overview['dataset'] == ds]['majority_baseline'].iloc[0]:.3f}" for ds in datasets
        )
        + " |\n"
    )
    return (
        "Test accuracy, mean ± std over seeds (↑n: n seeds still improving when the budget ended):\n\n"
        + head
        + "".join(row(a, accuracy) for a in arms)
        + majority
        + "\nMacro-F1, mean ± std over seeds:\n\n"
        + head
        + "".join(row(a, f1) for a in arms)
        + "\nSteps read per sequence · optimiser updates used / budget · training s · peak memory:\n\n"
        + head
        + "".join(row(a, cost) for a in arms)
    )


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
        start = settings(
            tuned, c.dataset, c.arm, tuned / "tuning" / c.dataset / c.arm / "trial0" / "history.json"
        )
        counterpart = _counterpart(untuned, runs[untuned], c.dataset, start, settings)
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


def _counterpart(untuned: Path, runs: pd.DataFrame, dataset: str, start, settings) -> str | None:
    """The untuned study's arm of `dataset` whose run has exactly the settings `start`, if any."""
    for arm, seed in runs[runs["dataset"] == dataset].groupby("arm")["seed"].min().items():
        history = untuned / "models" / dataset / arm / f"seed{seed}" / "history.json"
        if history.exists() and settings(untuned, dataset, arm, history) == start:
            return arm
    return None


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
