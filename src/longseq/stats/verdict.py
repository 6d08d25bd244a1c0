"""The study's answer: per data set the arms compared as training procedures, the best with
the arms shown worse than it, the cheapest arm shown as good within a margin recommended;
across data sets a critical-difference diagram of the arms' ranks.

Per data set the statistics are `longseq.stats.mcb`'s: seeds are the replicates of an arm, test
records are crossed with seeds (a fixed split) or nested in them (resampled splits), and every
statement about "the best" holds for all arms together with probability 1 - alpha (their error rates are measured on simulated studies,
`longseq.stats.calibration`). The recommendation is the arm with the fewest inference FLOPs per
record (`longseq.stats.flops`) among the arms shown within `margin` of the best; when none is, the
most accurate arm, with the smallest margin the data could show. Across data sets the arms'
ranks are compared by Friedman's test (Iman-Davenport's F) and pairwise Wilcoxon tests,
Holm-corrected (Benavoli et al. 2016, in place of the Nemenyi test), through scikit-posthocs,
which also draws the diagram. The reference (`longseq.references`, the field's standard
classifier) is a family of its own: never recommended, it gets a line per data set (its score,
the best LSTM-based arm's, the gap with its paired interval) and a place in the ranks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..references import ARM as REFERENCE  # the reference's runs: a family of its own
from . import mcb

COST = ["inference_flops", "train_flops", "arm"]  # how arms are ordered by cost


class Scored(NamedTuple):
    values: np.ndarray  # [arm, seed, record]
    constant: np.ndarray  # [seed, record]: the train-majority class
    nested: bool  # each seed scored on its own test records (resampled splits)


def load_runs(metric_files) -> dict[str, dict[str, list[dict]]]:
    """{data set: {arm: [metrics of each seed]}}, in the study's order. A run given twice is
    refused, naming both files."""
    runs: dict[str, dict[str, list[dict]]] = {}
    seen: dict[tuple, Path] = {}
    for path in metric_files:
        m = json.loads(Path(path).read_text())
        for field in ("predicted", "majority_class", "inference_flops"):
            if field not in m:
                raise ValueError(f"{path}: no {field!r}; rerun its evaluation (longseq evaluate)")
        key = (m["dataset"], m["arm"], m["seed"])
        if key in seen:
            raise ValueError(
                f"{path}: data set {key[0]}, arm {key[1]}, seed {key[2]} is also in {seen[key]}; "
                "give each run once"
            )
        seen[key] = Path(path)
        runs.setdefault(m["dataset"], {}).setdefault(m["arm"], []).append(m)
    return runs


def check_seeds(dataset: str, arms: dict[str, list[dict]]) -> list[int]:
    """The seeds every arm was trained with; arms with other seed sets are refused."""
    sets = {name: sorted(m["seed"] for m in runs) for name, runs in arms.items()}
    if len({tuple(s) for s in sets.values()}) > 1:
        listed = "; ".join(f"{name} {seeds}" for name, seeds in sets.items())
        raise ValueError(
            f"{dataset}: the arms were trained with different seeds ({listed}); "
            "compare arms over the same seeds (run the missing ones)"
        )
    return next(iter(sets.values()))


def _same_records(a: dict, b: dict) -> bool:
    """Whether two runs were scored on the same test records: the same labels and, where both
    recorded them, the same records (metrics written before runs recorded them have labels only)."""
    both = "records" in a and "records" in b
    return a["labels"] == b["labels"] and (not both or a["records"] == b["records"])


def record_values(arms: dict[str, list[dict]], dataset: str, metric: str) -> Scored:
    """values[arm, seed, record] of the metric (mcb.record_values), seeds in order, and the
    train-majority constant predictor's values[seed, record]. Every arm of a seed is scored on
    the same records; the seeds share them (a fixed split) or each has its own (resampled; the
    resamples of a group split differ in size a little: NaN pads the shorter)."""
    firsts = {}  # seed -> its first run: what every arm at that seed must have been scored on
    for name, runs in arms.items():
        for m in runs:
            first = firsts.setdefault(m["seed"], m)
            if not _same_records(m, first):
                raise ValueError(
                    f"{dataset}: arm {name} seed {m['seed']} was scored on other test records than arm "
                    f"{first['arm']} at that seed; rerun its evaluation with the study's data"
                )
    seeds = [firsts[s] for s in sorted(firsts)]
    nested = not all(_same_records(m, seeds[0]) for m in seeds)
    n_classes, longest = len(seeds[0]["classes"]), max(len(m["labels"]) for m in seeds)

    def padded(values):
        return np.pad(values, (0, longest - len(values)), constant_values=np.nan)

    out = [
        [
            padded(mcb.record_values(f["labels"], m["predicted"], n_classes, metric))
            for m, f in zip(sorted(runs, key=_seed), seeds)
        ]
        for runs in arms.values()
    ]
    constant = [
        padded(
            mcb.record_values(f["labels"], np.full(len(f["labels"]), f["majority_class"]), n_classes, metric)
        )
        for f in seeds
    ]
    return Scored(np.asarray(out), np.asarray(constant), nested)


def _records(values: np.ndarray) -> int:
    """Test records per seed (their mean, where resamples of groups differ in size)."""
    return round(float(np.isfinite(values[0]).sum(1).mean()))


def _seed(run: dict) -> int:
    return run["seed"]


def rank_dataset(
    dataset: str, arms: dict[str, list[dict]], alpha: float, margin: float, metric: str = "accuracy"
) -> pd.DataFrame:
    """One row per arm, the best first: its score, interval, simultaneous interval of its gap
    to the best, whether it is worse or within the margin, its cost and rank."""
    seeds = check_seeds(dataset, arms)
    values, constant, nested = record_values(arms, dataset, metric)
    stats = mcb.compare_with_best(values, alpha, nested)
    # each mean's interval, simultaneous over the arms (Bonferroni): the forest plot's bars
    half = mcb.t_quantile(1 - alpha / (2 * len(arms)), np.maximum(stats["df"], 1.0)) * np.sqrt(stats["var"])
    table = pd.DataFrame(
        {
            "dataset": dataset,
            "arm": list(arms),
            "metric": metric,
            "mean": stats["mean"],
            "std": stats["per_seed"].std(1, ddof=1) if len(seeds) > 1 else np.nan,
            "interval_low": np.clip(
                stats["interval_low"], 0, 1
            ),  # a score lies in [0, 1]: so does its interval
            "interval_high": np.clip(stats["interval_high"], 0, 1),
            "simultaneous_low": np.clip(stats["mean"] - half, 0, 1),
            "simultaneous_high": np.clip(stats["mean"] + half, 0, 1),
            "gap_to_best": stats["mean"].max() - stats["mean"],
            # a difference of two scores in [0, 1] lies in [-1, 1]: so does its interval
            "gap_low": np.clip(stats["gap_low"], -1, 1),
            "gap_high": np.clip(stats["gap_high"], -1, 1),
            "worse": stats["worse"],
            "within_margin": stats["gap_high"] < margin,
            "margin": margin,
            "alpha": alpha,
            **{
                field: [np.mean([m[field] for m in runs]) for runs in arms.values()]
                for field in (*COST[:2], "train_seconds", "steps_read", "peak_memory_mb")
            },
            "seeds": len(seeds),
            "test_records": _records(values),
            "resampled": nested,
            "majority_baseline": np.nanmean(constant),
            "model_type": [model_type(runs[0]) for runs in arms.values()],
        }
    )
    # the most accurate first; an exact tie goes to the cheaper arm, then by name
    table = table.sort_values(["mean", *COST], ascending=[False, True, True, True]).reset_index(drop=True)
    table["best"] = table.index == 0
    table["rank"] = table["mean"].rank(ascending=False, method="average")
    best = list(arms).index(table.loc[0, "arm"])
    baseline = mcb.above_baseline(values[best], constant, alpha, len(arms), nested)
    table["p_above_majority"] = np.where(table["best"], baseline["p"], np.nan)
    table[["seeds_for_margin", "records_reach"]] = [
        _plan(stats, best, list(arms).index(arm), len(seeds), alpha, margin) for arm in table["arm"]
    ]
    shown = table[table["within_margin"]]
    pick = shown.sort_values(COST).iloc[0]["arm"] if len(shown) else table.loc[0, "arm"]
    table["recommended"] = table["arm"] == pick
    return table


def _plan(stats: dict, best: int, arm: int, seeds: int, alpha: float, margin: float) -> tuple[float, float]:
    """For an arm below the best: the seeds that would show it within the margin at the observed
    variances, and how far the shared test records alone keep its bound (mcb.seeds_for_margin)."""
    if arm == best:
        return np.nan, np.nan
    pair = {k: stats[k][best, arm] for k in ("pair_var", "pair_df", "pair_fixed")}
    gap, arms = float(stats["mean"][best] - stats["mean"][arm]), len(stats["mean"])
    return mcb.seeds_for_margin(gap, pair, seeds, arms, alpha, margin), mcb.records_reach(pair, arms, alpha)


def has_lstm(run: dict) -> bool:
    """Whether a run's model has an LSTM (its type takes the LSTM's `forget_bias`): the bag,
    the conv ablation and the S4D stack do not (S4D takes `layers` too: not the mark)."""
    from ..models import options

    return "forget_bias" in options(model_type(run))


def model_type(run: dict) -> str:
    return run.get("arm_params", {}).get("model", {}).get("type", "lstm")


def _paired_gap(v: dict, alpha: float) -> tuple[float, float]:
    """mean_0 - mean_1 of two arms' `mcb.variances` and half its paired (1 - alpha) interval."""
    gap = float(v["mean"][0] - v["mean"][1])
    return gap, _half_width(alpha, v["pair_df"][0, 1], v["pair_var"][0, 1], min_df=0.0)


def reference_row(
    dataset: str,
    reference: list[dict],
    arms: dict[str, list[dict]],
    table: pd.DataFrame,
    alpha: float,
    metric: str,
) -> dict:
    """The reference's line: its score and interval, the best LSTM-based arm's, and the gap
    between them with its paired (1 - alpha) interval (seeds and records as for the arms)."""
    lstm_arms = [a for a in table["arm"] if has_lstm(arms[a][0])]
    best_lstm = lstm_arms[0] if lstm_arms else None  # the table is ordered by mean
    pair = {REFERENCE: reference} | ({best_lstm: arms[best_lstm]} if best_lstm else {})
    check_seeds(dataset, pair)
    values, _, nested = record_values(pair, dataset, metric)
    v = mcb.variances_of(values, nested)
    half = _half_width(alpha, v["df"][0], v["var"][0])
    row = {
        "dataset": dataset,
        "arm": REFERENCE,
        "family": REFERENCE,
        "method": reference[0]["reference"],
        "metric": metric,
        "mean": v["mean"][0],
        "std": v["per_seed"][0].std(ddof=1) if values.shape[1] > 1 else np.nan,
        "interval_low": float(np.clip(v["mean"][0] - half, 0, 1)),
        "interval_high": float(np.clip(v["mean"][0] + half, 0, 1)),
        "alpha": alpha,
        "inference_flops": np.mean([m["inference_flops"] for m in reference]),
        "train_seconds": np.mean([m["train_seconds"] for m in reference]),
        "seeds": values.shape[1],
        "test_records": _records(values),
        "best_lstm_arm": best_lstm,
        "best": False,
        "recommended": False,
        "worse": False,
        "within_margin": False,
    }
    if best_lstm:
        gap, reach = _paired_gap(v, alpha)
        row |= {"gap_to_best_lstm": gap, "gap_low": gap - reach, "gap_high": gap + reach}
    return row


def bag_gap(
    dataset: str, arms: dict[str, list[dict]], table: pd.DataFrame, alpha: float, metric: str
) -> dict | None:
    """The best LSTM-based arm's gap to the bag of steps (the non-recurrent baseline), with its
    paired (1 - alpha) interval, seeds and records as for the reference; None without both."""
    bags = list(table.loc[table["model_type"] == "bag", "arm"])
    lstm = [a for a in table["arm"] if has_lstm(arms[a][0])]  # the table is ordered by mean
    if not bags or not lstm:
        return None
    values, _, nested = record_values({lstm[0]: arms[lstm[0]], bags[0]: arms[bags[0]]}, dataset, metric)
    gap, reach = _paired_gap(mcb.variances_of(values, nested), alpha)
    return {"arm": lstm[0], "gap": gap, "low": gap - reach, "high": gap + reach}


def _half_width(alpha: float, df: float, var: float, min_df: float = 1.0) -> float:
    """Half the (1 - alpha) t interval of a mean (or gap) with variance `var` and `df` degrees."""
    return float(mcb.t_quantile(1 - alpha / 2, max(df, min_df))) * float(np.sqrt(var))


def reference_text(row: dict, table: pd.DataFrame) -> str:
    level = f"{1 - row['alpha']:.0%}"
    line = (
        f"Reference ({row['method']}, the field's standard; not among the recommended): {row['mean']:.3f} "
        f"({level} interval {row['interval_low']:.3f}–{row['interval_high']:.3f}, {_flops(row['inference_flops'])} "
        f"per record, fitted in {row['train_seconds']:.0f} s)."
    )
    if row.get("best_lstm_arm"):
        best = table[table["arm"] == row["best_lstm_arm"]].iloc[0]
        side = "above" if row["gap_to_best_lstm"] >= 0 else "below"
        shown = row["gap_low"] > 0 or row["gap_high"] < 0
        line += (
            f" Best LSTM-based arm: {best['arm']}, {best['mean']:.3f} ({level} interval "
            f"{best['interval_low']:.3f}–{best['interval_high']:.3f}); the reference is "
            f"{abs(row['gap_to_best_lstm']):.3f} {side} it ({level} paired interval of the gap "
            f"{row['gap_low']:+.3f} to {row['gap_high']:+.3f}"
            + ("" if shown else ": not distinguishable")
            + ")."
        )
    return line


def _flops(n: float) -> str:
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}FLOP"
    return f"{n:.3g} FLOP"


def _cost(row) -> str:
    return (
        f"{_flops(row['inference_flops'])} per record; training {_flops(row['train_flops'])}, "
        f"{row['train_seconds']:.0f} s"
    )


def recommendation(table: pd.DataFrame) -> str:
    """One data set's verdict in words."""
    best = table[table["best"]].iloc[0]
    pick = table[table["recommended"]].iloc[0]
    alpha, margin, metric = best["alpha"], best["margin"], best["metric"].replace("_", "-")
    seeds = int(best["seeds"])
    level = f"{1 - alpha:.0%}"
    lines = [
        f"### {best['dataset']}",
        "",
        f"Best arm: **{best['arm']}**, {metric} {best['mean']:.3f} ({level} interval "
        f"{best['interval_low']:.3f}–{best['interval_high']:.3f} over {_design(best)}); "
        + (
            f"above the train-majority class, {best['majority_baseline']:.3f} "
            if best["p_above_majority"] < alpha
            else f"**not shown above the train-majority class**, {best['majority_baseline']:.3f} "
        )
        + f"(one-sided p = {best['p_above_majority']:.2g}, for the best of {len(table)} arms).",
    ]
    if seeds == 1:
        lines.append(
            "With one seed the spread between training runs is unknown: the statements below are "
            "about these trained models, not about the arms' training procedures."
        )
    elif seeds == 2:
        lines.append(_two_seeds(alpha))
    tied = table[(table["mean"] == best["mean"]) & ~table["best"]]
    if len(tied):
        lines.append(f"Tied with it: {', '.join(tied['arm'])} (the cheaper is named best).")
    worse = table[table["worse"]]
    listed = ", ".join(f"{r.arm} ({r.mean:.3f}, at least {r.gap_low:.3f} below)" for r in worse.itertuples())
    lines.append(
        f"Worse than the best, by {level} simultaneous intervals of every arm's gap to the best of the "
        f"others (docs/method.md): {listed or 'none'}."
    )
    shown = table[table["within_margin"]]
    if len(shown):
        lines.append(
            f"Shown within {margin:g} of the best: "
            + ", ".join(f"{r.arm} ({_distance(r)})" for r in shown.itertuples())
            + "."
        )
        lines.append(
            f"Recommended: **{pick['arm']}**, the cheapest of these by inference: {_cost(pick)}"
            + ("." if pick["arm"] == best["arm"] else f" (best arm: {_cost(best)}).")
        )
    else:
        lines.append(
            f"Recommended: **{best['arm']}**, the most accurate ({_cost(best)}): no arm is shown within "
            f"{margin:g} of the best; {_tightest(table, _design(best))}"
        )
    bag = _bag_text(table)
    return "\n".join(lines + ([bag] if bag else []))


def _distance(row) -> str:
    """How far below the best an arm shown within the margin is at most; the best itself is
    above the others (its gap to the best of the others is negative): it is named the best."""
    return "the best" if row.best else f"at most {row.gap_high:.3f} below"


def _design(best) -> str:
    """What the intervals rest on: seeds and test records, shared or resampled per seed."""
    seeds, records = int(best["seeds"]), int(best["test_records"])
    if best.get("resampled"):
        return f"{seeds} seeds (each on its own resample of {records} test records)"
    return f"{seeds} seeds and {records} test records"


def _tightest(table: pd.DataFrame, design: str) -> str:
    """Why no arm is shown within the margin: the closest bound any arm's interval gives, never
    beyond what the metric's range allows (an arm scores at least 0: at most the best's mean below)."""
    others = table[~table["best"]]
    if others.empty:
        return "it is the only arm."
    tightest = others.loc[others["gap_high"].idxmin()]
    floor = float(table.loc[table["best"], "mean"].iloc[0])
    if tightest["gap_high"] >= floor:
        return (
            f"with {design} every arm's interval reaches the bottom of the metric's range: they bound no gap."
        )
    return f"{design} show no arm closer than {tightest['gap_high']:.3f} ({tightest['arm']}). " + _planning(
        table
    )


def _planning(table: pd.DataFrame) -> str:
    """How many seeds would show an arm within the margin (mcb.seeds_for_margin), or why none
    would: the closest arm's gap beyond the margin, or a test split too small to show it."""
    if "seeds_for_margin" not in table:
        return ""
    best, others = table[table["best"]].iloc[0], table[~table["best"]]
    margin = best["margin"]
    finite = others[np.isfinite(others["seeds_for_margin"])]
    if len(finite):
        row = finite.loc[finite["seeds_for_margin"].idxmin()]
        return (
            f"At the observed seed and record variances about {row['seeds_for_margin']:.0f} seeds would show "
            f"{row['arm']} within {margin:g} of the best."
        )
    closest = others.loc[others["mean"].idxmax()]
    gap = best["mean"] - closest["mean"]
    if gap >= margin:
        return (
            f"No number of seeds would show one: the closest arm, {closest['arm']}, is {gap:.3f} below the "
            "best on average, beyond the margin."
        )
    if gap + closest["records_reach"] >= margin:
        return (
            f"The test split is too small for any number of seeds to show one: its {best['test_records']} "
            f"test records, shared by every seed, alone keep {closest['arm']}'s bound "
            f"{closest['records_reach']:.3f} above its gap; resampled splits (`resample: true` in the "
            "sheet) or more test records would narrow that."
        )
    return "Even 100 seeds would not show one at the observed variances."


def _two_seeds(alpha: float) -> str:
    """What two seeds cannot show: a seed-to-seed spread from one degree of freedom."""
    two, three = (float(mcb.t_quantile(1 - alpha / 2, df)) for df in (1.0, 2.0))
    return (
        f"With 2 seeds each arm's own spread between training runs rests on one degree of freedom (a t "
        f"quantile of {two:.1f}, against {three:.1f} with 3 seeds): where the arms' spreads differ, the "
        "intervals below show only large differences. Run 3 or more seeds to bound gaps of a few points."
    )


def _bag_text(table: pd.DataFrame) -> str:
    """Said in words where a bag of steps (no LSTM, no order) is as good as every LSTM strategy."""
    bags = table[table["model_type"] == "bag"]
    best = table[table["best"]].iloc[0]
    if bags.empty or not best["p_above_majority"] < best["alpha"]:  # at chance nothing was needed or found
        return ""
    bag = bags.iloc[0]
    if bag["best"]:
        how = "it is the best arm here"
    elif bag["within_margin"]:
        how = f"it is shown within {bag['margin']:g} of the best"
    else:
        return ""
    return (
        f"The non-recurrent baseline ({bag['arm']}, a bag of steps: no LSTM, no order) is as good as any "
        f"LSTM strategy here: {how}, so no LSTM strategy was needed for this data set."
    )


def _complete(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Data set x arm means of the arms every data set has, ranked among those arms only."""
    long = pd.concat(tables)[["dataset", "arm", "mean"]]
    counts = long.groupby("arm")["dataset"].nunique()
    complete = [a for a in dict.fromkeys(long["arm"]) if counts[a] == long["dataset"].nunique()]
    long = long[long["arm"].isin(complete)].copy()
    long["rank"] = long.groupby("dataset")["mean"].rank(ascending=False, method="average")
    return long


def across_datasets(tables: list[pd.DataFrame]) -> tuple[pd.Series, pd.DataFrame]:
    """Mean rank of each arm over the data sets, and pairwise Wilcoxon p-values (Holm)."""
    import scikit_posthocs as sp

    long = _complete(tables)
    ranks = long.groupby("arm", sort=False)["rank"].mean()
    if long["dataset"].nunique() < 2:
        sig = pd.DataFrame(1.0, index=ranks.index, columns=ranks.index)
    else:
        ordered = long.sort_values(["arm", "dataset"])
        sig = sp.posthoc_wilcoxon(
            ordered, val_col="mean", group_col="arm", p_adjust="holm", zero_method="zsplit"
        )
        sig = sig.reindex(index=ranks.index, columns=ranks.index).fillna(1.0)
    return ranks, sig


def friedman(tables: list[pd.DataFrame]) -> tuple[float, float, int, int] | None:
    """Friedman's test that all arms rank alike across data sets, as Iman and Davenport's F
    (the chi-square form is too conservative with few data sets, Demšar 2006): F, p and its
    degrees of freedom. None below 2 data sets or 3 arms, where it is undefined."""
    from scipy.stats import f, friedmanchisquare

    wide = _complete(tables).pivot(index="dataset", columns="arm", values="mean")
    n, k = wide.shape
    if n < 2 or k < 3:
        return None
    chi2 = float(friedmanchisquare(*(wide[arm] for arm in wide.columns)).statistic)
    df1, df2 = k - 1, (k - 1) * (n - 1)
    statistic = (n - 1) * chi2 / (n * (k - 1) - chi2) if chi2 < n * (k - 1) else np.inf
    return statistic, float(f.sf(statistic, df1, df2)), df1, df2


def separated_pairs(sig: pd.DataFrame, alpha: float) -> list[tuple[str, str]]:
    arms = list(sig.index)
    return [(a, b) for i, a in enumerate(arms) for b in arms[i + 1 :] if sig.loc[a, b] < alpha]


def plot_critical_difference(
    ranks: pd.Series, sig: pd.DataFrame, n_datasets: int, alpha: float, path
) -> None:
    import scikit_posthocs as sp

    from ..core.plotting import plt, save_png  # the report's Agg backend and atomic PNG writer

    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.28 * len(ranks)))
    sp.critical_difference_diagram(ranks, sig, alpha=alpha, ax=ax)
    ax.set_title(
        f"Mean rank of each arm over {n_datasets} data set(s) (1 = best); arms joined by a bar are "
        f"not distinguishable\n(pairwise Wilcoxon over data sets, Holm-corrected, α = {alpha})",
        fontsize=8,
    )
    fig.tight_layout()
    save_png(fig, path)


def as_rst(text: str) -> str:
    """The verdict's Markdown as reStructuredText, for the first page of Snakemake's report
    (workflow/report/workflow.rst includes it above the workflow's description and graph)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            title = "Verdict per data set" if title == "Verdict" else title
            lines += [title, ("=" if line.startswith("# ") else "-") * len(title)]
        else:
            lines += [line, ""]  # each line of the Markdown its own paragraph, not one block
    return "\n".join(lines) + "\n"


LSTM_OPTIONS = {"type", "hidden", "layers", "init", "forget_bias"}


def ablation_pairs(arms: dict[str, list[dict]]) -> list[tuple[str, str]]:
    """(learned summarizer, its ablation): a conv_lstm arm and a conv arm whose settings are the
    same but for the LSTM (front end, readout, scaling, reduction)."""

    def rest(arm):
        params = arms[arm][0].get("arm_params", {})
        model = {k: v for k, v in params.get("model", {}).items() if k not in LSTM_OPTIONS}
        return json.dumps({**params, "model": model}, sort_keys=True)

    def kind(arm):
        return arms[arm][0].get("arm_params", {}).get("model", {}).get("type")

    return [
        (a, b)
        for a in arms
        if kind(a) == "conv_lstm"
        for b in arms
        if kind(b) == "conv" and rest(a) == rest(b)
    ]


def lstm_text(dataset: str, arms: dict[str, list[dict]], alpha: float, metric: str) -> str:
    """Whether the LSTM earns its place over its own front end: the summarizer and its ablation
    compared alone (the verdict's simultaneous intervals for two arms, paired by seed and record)."""
    lines = []
    for lstm, ablation in ablation_pairs(arms):
        pair = {lstm: arms[lstm], ablation: arms[ablation]}
        values, _, nested = record_values(pair, dataset, metric)
        stats = mcb.compare_with_best(values, alpha, nested)
        (lstm_mean, ablation_mean), lower = stats["mean"], int(stats["mean"][0] >= stats["mean"][1])
        low = stats["gap_low"][lower]  # how far the lower arm is at least below the other
        scores = f"{lstm} {lstm_mean:.3f}, {ablation} {ablation_mean:.3f}"
        if not stats["worse"][lower]:
            lines.append(
                f"The LSTM adds nothing measurable over its convolutional front end here ({scores})."
            )
        elif lower == 1:
            lines.append(f"The LSTM adds at least {low:.3f} over its convolutional front end ({scores}).")
        else:
            lines.append(
                f"The LSTM makes its convolutional front end worse here, by at least {low:.3f} ({scores})."
            )
    return "\n".join(lines)


def scaling_text(arms: dict[str, list[dict]]) -> str:
    """The data set's scaling where arms took it from the choice on valid (`scaling: auto`).
    With resampled splits each resample has its own choice, so every seed's is named."""
    chosen = [runs for runs in arms.values() if runs[0].get("scaling_choice")]
    if not chosen:
        return ""
    by_seed = _choices_by_seed(arms)
    if len(set(by_seed.values())) == 1:
        choice = chosen[0][0]["scaling_choice"]
        losses = ", ".join(f"{name} {loss:.3f}" for name, loss in choice["valid_loss"].items())
        return (
            f"Scaling chosen on valid (auto): **{choice['chosen']}** (probe valid loss: {losses}), "
            f"for {len(chosen)} of {len(arms)} arms."
        )
    return (
        f"Scaling chosen on valid (auto), on each seed's own resample: {_per_seed(by_seed)} "
        f"(each resample's probe: results/scaling/), for {len(chosen)} of {len(arms)} arms."
    )


def _choices_by_seed(arms: dict[str, list[dict]]) -> dict[int, str]:
    """Each seed's scaling choice, over the arms that took it (auto): one per resample."""
    return {
        run["seed"]: run["scaling_choice"]["chosen"]
        for runs in arms.values()
        if runs[0].get("scaling_choice")
        for run in runs
    }


def _per_seed(by_seed: dict[int, str]) -> str:
    """'log (seeds 1, 3, 4), robust (seed 0)': the most frequent choice first."""
    seeds = {}
    for seed, name in sorted(by_seed.items()):
        seeds.setdefault(name, []).append(seed)
    parts = sorted(seeds.items(), key=lambda item: (-len(item[1]), item[1][0]))
    return ", ".join(
        f"{name} (seed{'s' if len(s) > 1 else ''} {', '.join(map(str, s))})" for name, s in parts
    )


def write_verdict(
    metric_files,
    table_csv,
    text_md,
    figure,
    alpha: float = 0.05,
    margin: float = 0.02,
    metric="accuracy",
    front_rst=None,
    forest=None,
) -> str:
    from ..core.data import atomic_write_bytes
    from . import glance

    runs = load_runs(metric_files)
    tables, sections, rows = [], ["# Verdict", ""], []
    for dataset, arms in runs.items():
        reference = arms.pop(REFERENCE, None)
        table = rank_dataset(dataset, arms, alpha, margin, metric).assign(family="arm")
        text = recommendation(table)
        for extra in (lstm_text(dataset, arms, alpha, metric), scaling_text(arms)):
            text += "\n" + extra if extra else ""
        row = reference_row(dataset, reference, arms, table, alpha, metric) if reference else None
        rows.append(glance.row(table, row, _scaling(arms), bag_gap(dataset, arms, table, alpha, metric)))
        if row:
            text += "\n" + reference_text(row, table)
            table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
            table["rank"] = table["mean"].rank(ascending=False, method="average")  # the reference ranked too
        tables.append(table)
        sections.append(text + "\n")
    ranks, sig = across_datasets(tables)
    sections += _across_text(tables, ranks, sig, alpha, metric)
    text = "\n".join(sections) + "\n"
    atomic_write_bytes(table_csv, pd.concat(tables).to_csv(index=False).encode())
    at_a_glance = f"## At a glance\n\n{glance.markdown(rows)}\n\n"
    atomic_write_bytes(text_md, text.replace("# Verdict\n\n", "# Verdict\n\n" + at_a_glance, 1).encode())
    if forest:
        glance.plot_forest(tables, forest)
    if front_rst:
        atomic_write_bytes(front_rst, (glance.rst(rows, forest) + "\n" + as_rst(text)).encode())
    plot_critical_difference(ranks, sig, len(tables), alpha, figure)
    return text


def _across_text(
    tables: list[pd.DataFrame], ranks: pd.Series, sig: pd.DataFrame, alpha: float, metric: str
) -> list[str]:
    """The verdict's last section: mean ranks over the data sets and the Friedman test."""
    lines = [
        "### Across data sets",
        "",
        f"Mean rank by {metric.replace('_', '-')} (1 = best; arms every data set has): "
        + ", ".join(f"{arm} {rank:.2f}" for arm, rank in ranks.sort_values().items())
        + ".",
    ]
    test = friedman(tables)
    if test:
        pairs = separated_pairs(sig, alpha)
        lines += [
            f"Friedman test over {len(tables)} data sets (Iman–Davenport): F({test[2]}, {test[3]}) = "
            f"{test[0]:.2f}, p = {test[1]:.3g}. Pairs separated by Wilcoxon over data sets "
            f"(Holm, α = {alpha}): "
            + (", ".join(f"{a} vs {b}" for a, b in pairs) if pairs else "none")
            + (
                f" (with {len(tables)} data sets the smallest possible two-sided p is "
                f"{2 / 2 ** len(tables):.3g} before correction)."
                if len(tables) < 10
                else "."
            )
        ]
    return lines


def _scaling(arms: dict[str, list[dict]]) -> str | None:
    """A signal data set's scaling: the choice on valid where arms took it (auto), else the one fixed."""
    first = next(iter(arms.values()))[0]
    if not first.get("scaling_choice"):
        return first.get("scaling")
    by_seed = _choices_by_seed(arms)
    if len(set(by_seed.values())) == 1:
        return f"auto: {first['scaling_choice']['chosen']}"
    return f"auto, per resample: {_per_seed(by_seed)}"
