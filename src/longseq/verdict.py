"""The study's answer: per data set the arms ranked with intervals, each tested against the
best, and a recommendation; across data sets a critical-difference diagram of the arms' ranks.

Per data set the unit of evidence is the test record: every arm is scored on the same
records, so arms are compared paired. The interval of an arm's accuracy is a bootstrap that
resamples both the test records and the seeds (so it carries both kinds of spread); the test
of an arm against the best is Wilcoxon's signed-rank test on the per-record correctness
(averaged over seeds), Holm-corrected over the arms compared. That test holds the seeds fixed,
so an arm counts as worse only when the bootstrap interval of its gap to the best (records and
seeds resampled, paired) excludes zero as well. Across data sets the arms'
ranks are compared with pairwise Wilcoxon tests, Holm-corrected (Benavoli et al. 2016, in
place of the Nemenyi test), through scikit-posthocs, which also draws the diagram.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

BOOTSTRAP = 2000


def load_runs(metric_files) -> dict[str, dict[str, list[dict]]]:
    """{data set: {arm: [metrics of each seed]}}, in the study's order."""
    runs: dict[str, dict[str, list[dict]]] = {}
    for path in metric_files:
        m = json.loads(Path(path).read_text())
        if "predicted" not in m:
            raise ValueError(f"{path}: no per-record predictions; rerun its evaluation (longseq evaluate)")
        runs.setdefault(m["dataset"], {}).setdefault(m["arm"], []).append(m)
    return runs


def correctness(arms: dict[str, list[dict]], dataset: str) -> tuple[list[str], np.ndarray]:
    """correct[arm, seed, record] (1.0 right, 0.0 wrong); every arm on the same records."""
    names = list(arms)
    reference = arms[names[0]][0]["labels"]
    seeds = {len(v) for v in arms.values()}
    if len(seeds) != 1:
        raise ValueError(f"{dataset}: arms have different numbers of seeds ({sorted(seeds)})")
    out = []
    for name in names:
        for m in arms[name]:
            if m["labels"] != reference:
                raise ValueError(f"{dataset}: arm {name} seed {m['seed']} was scored on other test records")
        out.append([np.equal(m["predicted"], reference) for m in sorted(arms[name], key=lambda m: m["seed"])])
    return names, np.asarray(out, dtype=np.float64)


def bootstrap_accuracies(correct: np.ndarray, rng: np.random.Generator, n: int = BOOTSTRAP) -> np.ndarray:
    """accuracy[resample, arm]: records and seeds drawn with replacement, the same draw for
    every arm (so differences between arms are paired)."""
    n_arms, n_seeds, n_records = correct.shape
    out = np.empty((n, n_arms))
    for start in range(0, n, 200):
        size = min(200, n - start)
        record_weights = np.stack(
            [np.bincount(rng.integers(0, n_records, n_records), minlength=n_records) for _ in range(size)]
        )
        seed_weights = np.stack(
            [np.bincount(rng.integers(0, n_seeds, n_seeds), minlength=n_seeds) for _ in range(size)]
        )
        per_seed = correct @ record_weights.T  # arm, seed, resample
        out[start : start + size] = np.einsum("asb,bs->ba", per_seed, seed_weights) / (n_seeds * n_records)
    return out


def paired_p_value(better: np.ndarray, other: np.ndarray) -> float:
    """Wilcoxon signed-rank test on per-record correctness (seed means); 1 when they never differ."""
    from scipy.stats import wilcoxon

    difference = better - other
    if not np.any(difference):
        return 1.0
    return float(wilcoxon(difference, zero_method="wilcox").pvalue)


def rank_dataset(dataset: str, arms: dict[str, list[dict]], alpha: float, rng) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    names, correct = correctness(arms, dataset)
    accuracy = correct.mean(axis=2)  # arm, seed
    resampled = bootstrap_accuracies(correct, rng)
    best = int(np.argmax(accuracy.mean(axis=1)))
    per_record = correct.mean(axis=1)  # arm, record
    others = [a for a in range(len(names)) if a != best]
    raw = [paired_p_value(per_record[best], per_record[a]) for a in others]
    adjusted = dict(zip(others, multipletests(raw, method="holm")[1] if raw else []))
    raw = dict(zip(others, raw))
    difference = resampled[:, [best]] - resampled
    rows = []
    for a, name in enumerate(names):
        first = arms[name][0]
        rows.append(
            {
                "dataset": dataset,
                "arm": name,
                "accuracy_mean": accuracy[a].mean(),
                "accuracy_std": accuracy[a].std(ddof=1) if accuracy.shape[1] > 1 else np.nan,
                "interval_low": np.quantile(resampled[:, a], alpha / 2),
                "interval_high": np.quantile(resampled[:, a], 1 - alpha / 2),
                "gap_to_best": accuracy[best].mean() - accuracy[a].mean(),
                "gap_low": np.quantile(difference[:, a], alpha / 2),
                "gap_high": np.quantile(difference[:, a], 1 - alpha / 2),
                "p_vs_best": raw.get(a, np.nan),
                "p_vs_best_holm": adjusted.get(a, np.nan),
                "best": a == best,
                # separated from the best only when both say so: the paired test (records) and
                # the bootstrap interval of the gap (records and seeds) excluding zero
                "indistinguishable": a == best
                or adjusted[a] >= alpha
                or np.quantile(difference[:, a], alpha / 2) <= 0,
                "steps_read": np.mean([m["steps_read"] for m in arms[name]]),
                "train_seconds": np.mean([m["train_seconds"] for m in arms[name]]),
                "peak_memory_mb": np.mean([m["peak_memory_mb"] for m in arms[name]]),
                "seeds": accuracy.shape[1],
                "test_records": correct.shape[2],
                "majority_baseline": first["majority_baseline"],
            }
        )
    table = pd.DataFrame(rows).sort_values("accuracy_mean", ascending=False, kind="stable")
    table["rank"] = table["accuracy_mean"].rank(ascending=False, method="average")
    candidates = table[table["indistinguishable"]].sort_values(
        ["steps_read", "train_seconds", "peak_memory_mb"]
    )
    table["recommended"] = table["arm"] == candidates["arm"].iloc[0]
    return table.reset_index(drop=True)


def recommendation(table: pd.DataFrame, alpha: float) -> str:
    """One data set's verdict in words."""
    best = table[table["best"]].iloc[0]
    ties = table[table["indistinguishable"] & ~table["best"]]
    pick = table[table["recommended"]].iloc[0]
    lines = [
        f"### {best['dataset']}",
        "",
        f"Best arm: **{best['arm']}**, accuracy {best['accuracy_mean']:.3f} "
        f"(95% interval {best['interval_low']:.3f}–{best['interval_high']:.3f} over test records and "
        f"{int(best['seeds'])} seeds; majority class {best['majority_baseline']:.3f}).",
    ]
    if len(ties):
        listed = ", ".join(
            f"{r.arm} ({r.accuracy_mean:.3f}, p = {r.p_vs_best_holm:.2f})" for r in ties.itertuples()
        )
        lines.append(
            f"Not distinguishable from it (paired Wilcoxon over test records, Holm-adjusted p ≥ {alpha}, "
            f"or a {1 - alpha:.0%} bootstrap interval of the gap that includes 0): {listed}."
        )
    else:
        lines.append(
            f"Every other arm is worse (paired Wilcoxon, Holm-adjusted p < {alpha}, "
            "and the gap's interval excludes 0)."
        )
    lines.append(
        f"Recommended: **{pick['arm']}**, the cheapest of these: {pick['steps_read'] / 1e6:.2f} M steps "
        f"read in training, {pick['train_seconds']:.0f} s, {pick['peak_memory_mb']:.0f} MB peak memory"
        + (
            "."
            if pick["arm"] == best["arm"]
            else f" (best arm: {best['steps_read'] / 1e6:.2f} M steps, {best['train_seconds']:.0f} s)."
        )
    )
    return "\n".join(lines)


def across_datasets(tables: list[pd.DataFrame]) -> tuple[pd.Series, pd.DataFrame]:
    """Mean rank of each arm over the data sets, and pairwise Wilcoxon p-values (Holm)."""
    import scikit_posthocs as sp

    long = pd.concat(tables)[["dataset", "arm", "accuracy_mean", "rank"]]
    arms = list(dict.fromkeys(long["arm"]))
    complete = long.groupby("arm")["dataset"].nunique() == long["dataset"].nunique()
    long = long[long["arm"].isin(complete[complete].index)]
    ranks = long.groupby("arm")["rank"].mean().reindex([a for a in arms if complete.get(a, False)])
    if long["dataset"].nunique() < 2:
        sig = pd.DataFrame(1.0, index=ranks.index, columns=ranks.index)
    else:
        ordered = long.sort_values(["arm", "dataset"])
        sig = sp.posthoc_wilcoxon(
            ordered, val_col="accuracy_mean", group_col="arm", p_adjust="holm", zero_method="zsplit"
        )
        sig = sig.reindex(index=ranks.index, columns=ranks.index).fillna(1.0)
    return ranks, sig


def friedman(tables: list[pd.DataFrame]) -> tuple[float, float] | None:
    """Friedman's test that all arms rank alike across data sets (None below 2 data sets or 3
    arms, where it is undefined)."""
    from scipy.stats import friedmanchisquare

    wide = pd.concat(tables).pivot(index="dataset", columns="arm", values="accuracy_mean").dropna(axis=1)
    if len(wide) < 2 or wide.shape[1] < 3:
        return None
    result = friedmanchisquare(*(wide[arm] for arm in wide.columns))
    return float(result.statistic), float(result.pvalue)


def separated_pairs(sig: pd.DataFrame, alpha: float) -> list[tuple[str, str]]:
    arms = list(sig.index)
    return [(a, b) for i, a in enumerate(arms) for b in arms[i + 1 :] if sig.loc[a, b] < alpha]


def plot_critical_difference(
    ranks: pd.Series, sig: pd.DataFrame, n_datasets: int, alpha: float, path
) -> None:
    import scikit_posthocs as sp

    from .report import _save, plt  # the report's Agg backend and atomic PNG writer

    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.28 * len(ranks)))
    sp.critical_difference_diagram(ranks, sig, alpha=alpha, ax=ax)
    ax.set_title(
        f"Mean rank of each arm over {n_datasets} data set(s) (1 = most accurate); arms joined by a bar are "
        f"not distinguishable\n(pairwise Wilcoxon over data sets, Holm-corrected, α = {alpha})",
        fontsize=8,
    )
    fig.tight_layout()
    _save(fig, path)


def write_verdict(metric_files, table_csv, text_md, figure, alpha: float = 0.05, seed: int = 0) -> str:
    from .data import atomic_write_bytes

    rng = np.random.default_rng(seed)
    runs = load_runs(metric_files)
    tables = [rank_dataset(dataset, arms, alpha, rng) for dataset, arms in runs.items()]
    ranks, sig = across_datasets(tables)
    sections = ["# Verdict", ""] + [recommendation(t, alpha) + "\n" for t in tables]
    sections += [
        "### Across data sets",
        "",
        "Mean rank (1 = most accurate): "
        + ", ".join(f"{arm} {rank:.2f}" for arm, rank in ranks.sort_values().items())
        + ".",
    ]
    test = friedman(tables)
    if test:
        pairs = separated_pairs(sig, alpha)
        sections += [
            f"Friedman test over {len(tables)} data sets: χ² = {test[0]:.2f}, p = {test[1]:.3g}. "
            f"Pairs separated by Wilcoxon over data sets (Holm, α = {alpha}): "
            + (", ".join(f"{a} vs {b}" for a, b in pairs) if pairs else "none")
            + (
                f" (with {len(tables)} data sets the smallest possible two-sided p is "
                f"{2 / 2 ** len(tables):.3g} before correction)."
                if len(tables) < 10
                else "."
            )
        ]
    text = "\n".join(sections) + "\n"
    atomic_write_bytes(table_csv, pd.concat(tables).to_csv(index=False).encode())
    atomic_write_bytes(text_md, text.encode())
    plot_critical_difference(ranks, sig, len(tables), alpha, figure)
    return text
