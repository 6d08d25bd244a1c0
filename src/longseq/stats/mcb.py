"""Arms compared as training procedures: every arm's gap to the best, over seeds and the test
records of each seed.

An arm is a training procedure; a seed is one independent run of it. With a fixed split every
run is scored on the same test records (seeds and records crossed); with resampled splits each
seed draws its own test records, which the arms at that seed share (records nested in seeds;
`nested_variances`). So the estimate of an arm's score varies with the seeds drawn (runs
differ) and with the records drawn (the test set is a sample too). Per pair of arms the
variance of the difference of their scores has both parts, estimated from the runs (a crossed
design, seeds x records; see `variances`), with Welch-Satterthwaite degrees of freedom: with 3
seeds an arm's seed spread rests on 2 of them, and the quantiles say so.

The best arm is the argmax of the same data, so the calls carry the cost of picking it: the
simultaneous intervals of every pair (Games-Howell) give, for every arm a, an interval of
`max_{j != a} theta_j - theta_a` (how far a is below the best of the others; Hsu's multiple
comparisons with the best). An arm is *worse* when that interval lies above 0, *within the
margin* when its upper end is below the margin; all these statements hold together with
probability 1 - alpha. Their error rates are measured on simulated studies
(longseq.stats.calibration; docs/method.md has the table).
"""

from __future__ import annotations

from functools import cache

import numpy as np

METRICS = ("accuracy", "macro_f1")


def record_values(labels: np.ndarray, predicted: np.ndarray, n_classes: int, metric: str) -> np.ndarray:
    """One value per test record whose mean is the run's score. Accuracy: 1 right, 0 wrong.
    Macro-F1: its influence values (first-order terms of F1_k = 2 tp_k / (p_k + q_k) in each
    record's indicators), whose mean is exactly the macro-F1 and whose spread over records
    gives its delta-method variance."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if metric == "accuracy":
        return (labels == predicted).astype(np.float64)
    if metric != "macro_f1":
        raise ValueError(f"unknown verdict metric {metric!r}; use one of {METRICS}")
    classes = np.arange(n_classes)
    y = (labels[:, None] == classes).astype(np.float64)
    y_hat = (predicted[:, None] == classes).astype(np.float64)
    tp, p, q = (y * y_hat).mean(0), y.mean(0), y_hat.mean(0)
    denominator = p + q
    seen = denominator > 0
    safe = np.where(seen, denominator, 1.0)
    f1 = np.where(seen, 2 * tp / safe, 0.0)
    terms = np.where(seen, 2 * y * y_hat / safe - 2 * tp / safe**2 * (y + y_hat), 0.0)
    return f1.mean() + terms.mean(1)


def _satterthwaite(parts: list[tuple[np.ndarray, np.ndarray | float]]) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of a sum of variance estimates (part, its df)."""
    total = sum(part for part, _ in parts)
    spread = sum(np.where(df > 0, np.square(part) / np.where(df > 0, df, 1), 0.0) for part, df in parts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, np.square(total) / np.where(spread > 0, spread, 1), np.inf)


def t_quantile(q: float, df: np.ndarray) -> np.ndarray:
    from scipy.stats import t

    return t.ppf(q, df)


def agreeing_spreads(per_seed: np.ndarray, level: float = 0.01) -> np.ndarray:
    """Which arms' seed spreads go into the pool: all but those whose per-seed scores spread
    significantly more than the other arms' together (an F test, Bonferroni over the arms).
    Without it one arm with a collapsed seed (IMDB's pretrained arm in the default study:
    std 0.11 against about 0.01) widened every other arm's intervals fivefold."""
    from scipy.stats import f

    arms, seeds = per_seed.shape
    if seeds < 2 or arms < 3:
        return np.ones(arms, bool)
    spread = per_seed.var(1, ddof=1)
    rest = (spread.sum() - spread) / (arms - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rest > 0, spread / np.where(rest > 0, rest, 1), np.where(spread > 0, np.inf, 0.0))
    return f.sf(ratio, seeds - 1, (arms - 1) * (seeds - 1)) >= level / arms


def variances(values: np.ndarray) -> dict[str, np.ndarray]:
    """values[arm, seed, record] -> per arm its mean, the variance of that mean and its
    degrees of freedom; per pair (a, j) the variance of mean_j - mean_a and its df.

    The seed part of a variance has two pieces. Runs differ record by record (each run gets
    its own records wrong), which moves a run's score by a known amount: each record's spread
    over seeds, measured on all records (many df). Beyond that, seeds shift whole runs (the
    seed effect), which only the S per-seed scores show (S - 1 df): that piece is the larger
    of the arm's own and the one pooled over the arms whose spreads agree (`agreeing_spreads`;
    K (S - 1) df when all do), so arms whose seeds agree alike borrow strength from each
    other, and an arm with a collapsed seed keeps its own, larger spread. With each arm's own
    spread alone (Welch, as Games-Howell does) equal arms were called worse in 0.085 of
    simulated studies with 10 arms x 3 seeds."""
    arms, seeds, records = values.shape
    per_seed = values.mean(2)
    record_means = values.mean(1)  # arm, record: each record's value averaged over seeds
    if seeds > 1:
        # per-run noise in the seed mean of one record; over N records, in the arm's mean
        run_noise = values.var(1, ddof=1).mean(1) / seeds
        excess = per_seed.var(1, ddof=1) / seeds - run_noise / records
    else:
        run_noise = excess = np.zeros(arms)
    pooled_arms = agreeing_spreads(per_seed)
    noise_df, own_df, pooled_df = records * (seeds - 1.0), seeds - 1.0, pooled_arms.sum() * (seeds - 1.0)
    record_df = records - 1.0
    runs = run_noise / records
    own, pooled = np.maximum(excess, 0), max(float(excess[pooled_arms].mean()), 0.0)

    cov = np.atleast_2d(np.cov(record_means)) if records > 1 else np.zeros((arms, arms))
    diag = np.diag(cov)
    arm_record = np.maximum(diag - run_noise, 0) / records
    pair_spread = diag[:, None] + diag[None, :] - 2 * cov  # of the seed-averaged difference
    pair_record = np.maximum(pair_spread - run_noise[:, None] - run_noise[None, :], 0) / records

    arm_seed = np.maximum(own, pooled)
    arm_seed_df = np.where(own > pooled, own_df, pooled_df)
    runs_a, runs_j = np.broadcast_arrays(runs[:, None], runs[None, :])
    own_a, own_j = np.broadcast_arrays(own[:, None], own[None, :])
    keep_own = own_a + own_j > 2 * pooled
    common = [(runs_a, noise_df), (runs_j, noise_df), (pair_record, record_df)]
    pair_df = np.where(
        keep_own,
        _satterthwaite([(own_a, own_df), (own_j, own_df), *common]),
        _satterthwaite([(np.full_like(own_a, 2 * pooled), pooled_df), *common]),
    )
    return {
        "mean": per_seed.mean(1),
        "per_seed": per_seed,
        "var": runs + arm_seed + arm_record,
        "df": _satterthwaite([(runs, noise_df), (arm_seed, arm_seed_df), (arm_record, record_df)]),
        "pair_var": runs_a + runs_j + np.where(keep_own, own_a + own_j, 2 * pooled) + pair_record,
        "pair_df": pair_df,
        "pair_fixed": pair_record,  # the part more seeds leave as it is: the shared test records'
    }


def nested_variances(values: np.ndarray) -> dict[str, np.ndarray]:
    """`variances` when each seed scored its own draw of test records (resampled splits), the
    arms of a seed on the same records: values[arm, seed, record], record r of one seed unrelated
    to record r of another. The record part then shrinks with the seeds too: within a seed the
    records' spread (per pair, the spread of their differences, which the shared records make
    small) gives the variance of the mean over S R records, with S (R - 1) df. Beyond it, the
    spread of the per-seed scores (per pair, of their per-seed differences) gives the seed
    part: the pair's own (S - 1 df) where it is larger than the one pooled over the pairs of
    agreeing arms, else the pooled. A pair's seed part is read from its differences, not from
    its two arms' spreads, because the record draw and the train split of a seed move all its
    arms alike: those cancel in a difference, and from the arms' own spreads they had to be
    subtracted again, noisily (equal arms were called worse in 0.071 of 1,000 simulated
    studies at 10 arms x 5 seeds x 100 records that way)."""
    arms, seeds, _ = values.shape
    counts = np.isfinite(values[0]).sum(1)  # each seed's records (NaN pads the shorter resamples)
    per_seed = np.nanmean(values, 2)
    centred = np.nan_to_num(values - per_seed[..., None])
    # per seed, the records' covariance between arms over that seed's records, / R_s: the
    # variance of its mean; the mean over seeds has their sum / S^2
    cov = np.einsum("asr,bsr,s->ab", centred, centred, 1 / (np.maximum(counts - 1, 1) * counts)) / seeds**2
    within = np.diag(cov)
    pair_within = within[:, None] + within[None, :] - 2 * cov
    within_df = float((counts - 1).sum())
    if seeds > 1:
        excess = per_seed.var(1, ddof=1) / seeds - within
        pair_excess = (per_seed[None, :] - per_seed[:, None]).var(2, ddof=1) / seeds - pair_within
    else:
        excess, pair_excess = np.zeros(arms), np.zeros((arms, arms))
    agree = agreeing_spreads(per_seed)
    own_df, pooled_df = seeds - 1.0, max(agree.sum() - 1.0, 1.0) * (seeds - 1.0)
    own, pooled = np.maximum(excess, 0), max(float(excess[agree].mean()), 0.0)
    arm_own = own > pooled
    pairs = np.outer(agree, agree) & ~np.eye(arms, dtype=bool)
    pair_own = np.maximum(pair_excess, 0)
    pair_pooled = max(float(pair_excess[pairs].mean()), 0.0) if pairs.any() else 0.0
    pair_keep_own = pair_own > pair_pooled
    # a seed part is the per-seed scores' spread less the records' part: its noise is that
    # spread's, on the seeds' df (with the records' part's small noise beside it)
    arm = _read_off(within, np.where(arm_own, own, pooled), np.where(arm_own, own_df, pooled_df), within_df)
    pair = _read_off(
        pair_within,
        np.where(pair_keep_own, pair_own, pair_pooled),
        np.where(pair_keep_own, own_df, pooled_df),
        within_df,
    )
    return {
        "mean": per_seed.mean(1),
        "per_seed": per_seed,
        **arm,
        **{f"pair_{k}": v for k, v in pair.items()},
        "pair_fixed": np.zeros((arms, arms)),  # every part shrinks with more seeds
    }


def _read_off(records: np.ndarray, seed: np.ndarray, seed_df: np.ndarray, records_df: float) -> dict:
    """A variance as its records' part plus a seed part read off the per-seed scores' spread
    (that spread less the records' part), with the df of that reading: Welch-Satterthwaite
    with the seed part's noise that of the whole spread it was read from."""
    total = records + seed
    noise = np.square(total) / seed_df + np.square(records) / records_df
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "var": total,
            "df": np.where(noise > 0, np.square(total) / np.where(noise > 0, noise, 1), np.inf),
        }


def variances_of(values: np.ndarray, nested: bool) -> dict[str, np.ndarray]:
    """The variances of the study's design: records nested in seeds (resampled) or crossed."""
    return nested_variances(values) if nested else variances(values)


@cache
def _range_quantiles(arms: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The studentized range's `level` quantile for `arms` means, on a grid of 1 / df: scipy's
    ppf integrates numerically (~0.15 s a value, K^2 of them per data set), while log q is
    smooth in 1 / df; interpolated, it was within 0.6 % of the exact value from df 1.2 to 5000,
    and above it (the safe side) where df < 9."""
    from scipy.stats import studentized_range

    grid = np.array([1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 11, 16, 25, 40, 70, 150, 400, 2000])
    q = [studentized_range.ppf(level, arms, df) for df in grid[::-1]]
    return np.r_[0.0, 1 / grid[::-1]], np.log(np.r_[studentized_range.ppf(level, arms, np.inf), q])


def range_quantile(arms: int, level: float, df: np.ndarray) -> np.ndarray:
    inverse_df, log_q = _range_quantiles(arms, level)
    return np.exp(np.interp(1 / np.maximum(df, 1.0), inverse_df, log_q))


def compare_with_best(values: np.ndarray, alpha: float, nested: bool = False) -> dict[str, np.ndarray]:
    """Per arm of values[arm, seed, record]: its mean and (1 - alpha) interval, and
    `gap_low`..`gap_high`, the simultaneous (1 - alpha) interval of
    max_{j != a} theta_j - theta_a; `worse` when it lies above 0.

    Every pair gets a Games-Howell interval (Tukey's studentized range with the pair's own
    variance and Welch df), which hold together with probability 1 - alpha; each arm's gap
    to the best of the others follows from its row of them. All pairs, not just the K - 1
    with the true best as in Hsu's constrained MCB: when arms tie for best, Hsu's bound only
    says an arm is *not better* than the others, and calling it worse then errs (measured:
    0.17 at 10 arms x 3 seeds with Hsu's K - 1 comparisons)."""
    v = variances_of(values, nested)
    arms = len(v["mean"])
    half = t_quantile(1 - alpha / 2, v["df"]) * np.sqrt(v["var"])
    out = {
        "mean": v["mean"],
        "per_seed": v["per_seed"],
        "var": v["var"],  # each mean's variance and df, for intervals at other levels
        "df": v["df"],
        **{k: v[k] for k in ("pair_var", "pair_df", "pair_fixed")},  # for planning (seeds_for_margin)
        "interval_low": v["mean"] - half,
        "interval_high": v["mean"] + half,
    }
    if arms == 1:
        zero = np.zeros(1)
        return out | {"gap_low": zero, "gap_high": zero, "worse": np.zeros(1, bool)}
    diff = v["mean"][None, :] - v["mean"][:, None]  # [a, j]: how far j is above a
    reach = range_quantile(arms, 1 - alpha, v["pair_df"]) / np.sqrt(2) * np.sqrt(v["pair_var"])
    others = ~np.eye(arms, dtype=bool)
    low = np.where(others, diff - reach, -np.inf).max(1)
    high = np.where(others, diff + reach, -np.inf).max(1)
    return out | {"gap_low": low, "gap_high": high, "worse": low > 0}


def seeds_for_margin(
    gap: float, pair: dict, seeds: int, arms: int, alpha: float, margin: float, most: int = 100
) -> float:
    """The fewest seeds at which an arm `gap` below the best would be shown within `margin`, at
    the variances observed (`pair`: the pair's pair_var, pair_df and pair_fixed): the part that
    shrinks with seeds scaled by S / S', the shared test records' part (a fixed split) kept, the
    df grown with the seeds. inf where no number up to `most` would: a gap beyond the margin, a
    test split too small (its records' part alone too wide), or too noisy runs."""
    shrinks, fixed = pair["pair_var"] - pair["pair_fixed"], pair["pair_fixed"]
    for more in range(seeds + 1, most + 1):
        df = np.asarray(pair["pair_df"] * (more - 1) / max(seeds - 1, 1))
        reach = range_quantile(arms, 1 - alpha, df) / np.sqrt(2) * np.sqrt(shrinks * seeds / more + fixed)
        if gap + float(reach) < margin:
            return float(more)
    return np.inf


def records_reach(pair: dict, arms: int, alpha: float) -> float:
    """How far the shared test records' part alone keeps a gap's simultaneous bound from it,
    whatever the number of seeds (0 with resampled splits)."""
    return float(
        range_quantile(arms, 1 - alpha, np.asarray(np.inf)) / np.sqrt(2) * np.sqrt(pair["pair_fixed"])
    )


def above_baseline(
    values: np.ndarray, baseline: np.ndarray, alpha: float, arms: int, nested: bool = False
) -> dict:
    """One-sided test that an arm (values[seed, record]) scores above a constant predictor
    (baseline[record], or baseline[seed, record] with resampled splits); the arm was picked as
    the best of `arms`, so the p-value is multiplied by `arms` (Bonferroni over the arms it
    could have been)."""
    from scipy.stats import t

    v = variances_of(np.stack([values, np.broadcast_to(baseline, values.shape)]), nested)
    gap = v["mean"][0] - v["mean"][1]
    se = float(np.sqrt(v["pair_var"][0, 1]))
    df = float(v["pair_df"][0, 1])
    p = float(t.sf(gap / se, df)) if se > 0 else float(gap <= 0)
    adjusted = min(1.0, p * arms)
    return {"gap": gap, "p": adjusted, "above": adjusted < alpha}
