"""Simulated studies with a known answer, to measure how often the verdict is wrong.

A statistic is done when its error rates are measured, not when it computes its formula. Each
simulated study has every arm scored on the same test records, as in a real one: a record's
difficulty is shared by all arms (logit scale), each run (arm x seed) shifts its accuracy by a
seed effect (the seed-to-seed spread of a training procedure), and each run gets each record
right or wrong on its own. Arms are equal procedures unless `worse_by` makes the first one,
the cheapest (so the one a careless verdict would recommend), truly worse. `longseq
calibrate` writes the table docs/method.md shows; the tests run the same simulations,
smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def label(self) -> str:
        return f"{self.arms} × {self.seeds}"


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
    labels = rng.integers(0, 2, s.records)
    difficulty = rng.standard_normal(s.records) * s.difficulty_sd
    arms = {}
    for a in range(s.arms):
        target = s.accuracy - (s.worse_by if a == 0 else 0.0)
        theta, slope = _logit_for(target, s.difficulty_sd)
        shift = rng.standard_normal(s.seeds) * (s.seed_sd / slope)
        p = _sigmoid(theta + shift[:, None] + difficulty[None, :])
        if s.collapsed and a == 0:
            p[-1] = 0.5
        correct = rng.random((s.seeds, s.records)) < p
        name = f"arm{a}"
        arms[name] = [
            {
                "dataset": "simulated",
                "arm": name,
                "seed": seed,
                "labels": labels.tolist(),
                "predicted": np.where(correct[seed], labels, 1 - labels).tolist(),
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


def calibration_table(rank, studies: int = 200, seed: int = 0) -> pd.DataFrame:
    """The error rates of verdict `rank` in the scenarios docs/method.md shows."""
    rows = []
    for scenario, truth in SCENARIOS:
        rows.append(
            {
                "arms × seeds": scenario.label(),
                "records": scenario.records,
                "seed SD": scenario.seed_sd,
                "the cheapest arm": truth,
                **error_rates(scenario, studies, rank, seed),
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, rates to three decimals."""

    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * table.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
