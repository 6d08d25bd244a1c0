"""Simulated studies with a known answer, to measure how often the verdict is wrong.

A statistic is done when its error rates are measured, not when it computes its formula. Each
simulated study has every arm scored on the same test records, as in a real one: a record's
difficulty is shared by all arms (logit scale), each run (arm x seed) shifts its accuracy by a
seed effect (the seed-to-seed spread of a training procedure), and each run gets each record
right or wrong on its own. With resampled splits each seed draws new test records (and a new
train split, which moves every arm of the seed alike by `split_sd`). Arms are equal procedures
unless `worse_by` makes the first one, the cheapest (so the one a careless verdict would recommend), truly worse. `longseq
calibrate` writes the table docs/method.md shows; the tests run the same simulations,
smaller.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

# Gauss-Hermite nodes for expectations over a record's difficulty z ~ N(0, 1)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(64)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


@dataclass(frozen=True)
class Scenario:
    arms: int = 10
    seeds: int = 3
    records: int = 300
    accuracy: float = 0.80  # every arm's expected accuracy (the first one's minus worse_by)
    worse_by: float = 0.0  # how much worse the first arm truly is
    seed_sd: float = 0.03  # SD of a run's expected accuracy over seeds
    difficulty_sd: float = 1.5  # spread of the records' shared difficulty (logit scale)
    collapsed: bool = False  # the first arm's last seed collapses to chance (0.5)
    resampled: bool = False  # each seed its own test records (and train split)
    split_sd: float = 0.01  # resampled: SD of a seed's train split's effect, shared by its arms
    interaction_sd: float = 0.0  # each arm's own difficulty of each record (logit): arms err apart

    def label(self) -> str:
        return f"{self.arms} × {self.seeds}"

    @property
    def split(self) -> str:
        return "resampled" if self.resampled else "fixed"


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit_for(accuracy: float, difficulty_sd: float) -> tuple[float, float]:
    """The arm's logit whose accuracy averaged over record difficulties is `accuracy`, and the
    slope d(accuracy)/d(logit) there (to turn an accuracy SD into a logit SD)."""
    from scipy.optimize import brentq

    def mean(t):
        return float(_WEIGHTS @ _sigmoid(t + difficulty_sd * _NODES))

    theta = brentq(lambda t: mean(t) - accuracy, -20, 20)
    p = _sigmoid(theta + difficulty_sd * _NODES)
    return theta, float(_WEIGHTS @ (p * (1 - p)))


def simulate(scenario: Scenario, rng: np.random.Generator) -> dict[str, list[dict]]:
    """One study: {arm: [metrics of each seed]}, in the format `longseq evaluate` writes.
    Arm i costs i + 1 units (so the first arm is the cheapest)."""
    s = scenario
    draws = s.seeds if s.resampled else 1  # each seed its own records, or all the same
    labels = rng.integers(0, 2, (draws, s.records))
    difficulty = rng.standard_normal((draws, s.records)) * s.difficulty_sd
    records = np.arange(draws * s.records).reshape(draws, s.records)
    # drawn only where used, so that the fixed-split rows draw what they drew before these options
    split_effect = rng.standard_normal(s.seeds) * s.split_sd if s.resampled else np.zeros(s.seeds)
    labels, records = (np.broadcast_to(x, (s.seeds, s.records)) for x in (labels, records))
    spread = np.hypot(s.difficulty_sd, s.interaction_sd)  # of a record's difficulty for one arm
    arms = {}
    for a in range(s.arms):
        target = s.accuracy - (s.worse_by if a == 0 else 0.0)
        theta, slope = _logit_for(target, spread)
        shift = (rng.standard_normal(s.seeds) * s.seed_sd + split_effect) / slope
        own = rng.standard_normal((draws, s.records)) * s.interaction_sd if s.interaction_sd else 0.0
        p = _sigmoid(theta + shift[:, None] + difficulty + own)
        if s.collapsed and a == 0:
            p[-1] = 0.5
        correct = rng.random((s.seeds, s.records)) < p
        name = f"arm{a}"
        arms[name] = [
            {
                "dataset": "simulated",
                "arm": name,
                "seed": seed,
                "labels": labels[seed].tolist(),
                "predicted": np.where(correct[seed], labels[seed], 1 - labels[seed]).tolist(),
                "records": records[seed].tolist(),
                "classes": ["0", "1"],
                "majority_class": 0,
                "majority_baseline": float((labels == 0).mean()),
                "inference_flops": float(a + 1),
                "train_flops": float(a + 1) * 1e3,
                "steps_read": float(a + 1),
                "train_seconds": float(a + 1),
                "peak_memory_mb": 100.0,
            }
            for seed in range(s.seeds)
        ]
    return arms


def error_rates(scenario: Scenario, studies: int, rank, seed: int = 0) -> dict:
    """Over `studies` simulated studies of the verdict `rank(arms, rng)` (a table with the
    columns arm, worse and recommended): how often an arm that is as good as any is called
    worse, and how often the cheapest arm (the truly worse or collapsed one, if any) is called
    worse and is recommended."""
    rng = np.random.default_rng(seed)
    odd = "arm0" if scenario.worse_by > 0 else None  # the one arm that is truly worse
    false_call = cheapest_called = cheapest_recommended = 0
    for _ in range(studies):
        table = rank(simulate(scenario, rng), rng).set_index("arm")
        called = set(table.index[table["worse"]])
        false_call += bool(called - {odd})
        cheapest_called += "arm0" in called
        cheapest_recommended += bool(table.loc["arm0", "recommended"])
    return {
        "an equal arm called worse": false_call / studies,
        "cheapest arm called worse": cheapest_called / studies,
        "cheapest arm recommended": cheapest_recommended / studies,
    }


# (scenario, what the cheapest arm is)
SCENARIOS = [
    *(
        (Scenario(arms=arms, seeds=seeds, seed_sd=sd, worse_by=worse_by), truth)
        for arms, seeds, sd in ((10, 3, 0.03), (10, 5, 0.03), (4, 5, 0.03), (10, 10, 0.03), (10, 3, 0.0))
        for worse_by, truth in ((0.0, "all equal"), (0.05, "worse by 0.05"))
    ),
    (Scenario(arms=4, seeds=5, collapsed=True), "one seed collapsed"),
    (Scenario(arms=3, seeds=10, records=3000, seed_sd=0.005), "all equal, stable, 3000 records"),
    (
        Scenario(arms=3, seeds=10, records=3000, seed_sd=0.005, worse_by=0.05),
        "worse by 0.05, stable, 3000 records",
    ),
]


RESAMPLED = [(replace(scenario, resampled=True), truth) for scenario, truth in SCENARIOS]

# the power table: an arm worse by 0.05 among 10, and all 10 equal, per design and split; with
# arms that differ in level only (the table above), and with records that are easy or hard for
# each arm nearly for sure and arms that err on different records (difficulty SD 4, arm x record
# SD 2: two seeds of an arm disagree on 11 % of the records, two arms on 23 %)
POWER = [
    (
        Scenario(
            seeds=seeds,
            records=records,
            worse_by=worse_by,
            resampled=resampled,
            difficulty_sd=difficulty,
            interaction_sd=interaction,
        ),
        truth,
    )
    for difficulty, interaction in ((1.5, 0.0), (4.0, 2.0))
    for seeds in (5, 10)
    for records in (100, 300)
    for resampled in (False, True)
    for worse_by, truth in ((0.05, "worse by 0.05"), (0.0, "all equal"))
]


def calibration_table(rank, studies: int = 200, seed: int = 0, scenarios=None) -> pd.DataFrame:
    """The error rates of verdict `rank` in the scenarios docs/method.md shows (fixed splits,
    then the same with resampled ones)."""
    rows = []
    for scenario, truth in scenarios or SCENARIOS + RESAMPLED:
        rows.append(
            {
                "split": scenario.split,
                "arms × seeds": scenario.label(),
                "records": scenario.records,
                "seed SD": scenario.seed_sd,
                "difficulty SD": scenario.difficulty_sd,
                "arm × record SD": scenario.interaction_sd,
                "the cheapest arm": truth,
                **error_rates(scenario, studies, rank, seed),
            }
        )
    return pd.DataFrame(rows)


def power_table(rank, studies: int = 200, seed: int = 0) -> pd.DataFrame:
    """Per design (10 arms; seeds, test records, split): how often an arm worse by 0.05 is
    called worse, and how often an equal cheapest arm is recommended (shown within the margin)."""
    rates = calibration_table(rank, studies, seed, POWER)
    worse, equal = (
        rates[rates["the cheapest arm"] != "all equal"],
        rates[rates["the cheapest arm"] == "all equal"],
    )
    keys = ["arms × seeds", "records", "difficulty SD", "arm × record SD", "split"]
    return pd.DataFrame(
        {
            **{k: worse[k].to_numpy() for k in keys},
            "worse by 0.05 called worse": worse["cheapest arm called worse"].to_numpy(),
            "an equal arm called worse": equal["an equal arm called worse"].to_numpy(),  # all equal
            "equal cheapest arm recommended": equal["cheapest arm recommended"].to_numpy(),
        }
    )


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, rates to three decimals."""

    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * table.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
