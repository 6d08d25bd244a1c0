"""The verdict: intervals that have the spread they should, paired tests that separate a worse
arm and not a copy, the cheapest indistinguishable arm recommended, ranks across data sets."""

import json

import numpy as np
import pandas as pd
import pytest

from longseq import verdict


def run(dataset, arm, seed, labels, predicted, steps=1e6):
    return {
        "dataset": dataset,
        "arm": arm,
        "seed": seed,
        "labels": list(map(int, labels)),
        "predicted": list(map(int, predicted)),
        "steps_read": steps,
        "train_seconds": steps / 1e5,
        "peak_memory_mb": 100.0,
        "majority_baseline": 0.5,
    }


def noisy(labels, accuracy, rng):
    return np.where(rng.random(len(labels)) < accuracy, labels, 1 - labels)


def test_the_interval_has_the_binomial_spread_for_one_seed():
    """One seed: resampling records alone, so the spread is sqrt(p (1 - p) / n)."""
    rng = np.random.default_rng(0)
    correct = (rng.random((1, 1, 400)) < 0.7).astype(float)
    p = correct.mean()
    resampled = verdict.bootstrap_accuracies(correct, np.random.default_rng(1), n=4000)
    assert resampled[:, 0].mean() == pytest.approx(p, abs=0.003)
    assert resampled[:, 0].std() == pytest.approx(np.sqrt(p * (1 - p) / 400), rel=0.08)


def test_seeds_that_disagree_widen_the_interval():
    rng = np.random.default_rng(0)
    agree = np.repeat((rng.random((1, 1, 300)) < 0.7).astype(float), 4, axis=1)
    disagree = agree.copy()
    disagree[0, :2] = (rng.random((2, 300)) < 0.95).astype(float)  # two seeds far better
    disagree[0, 2:] = (rng.random((2, 300)) < 0.45).astype(float)
    spread = [
        verdict.bootstrap_accuracies(c, np.random.default_rng(2), 2000)[:, 0].std() for c in (agree, disagree)
    ]
    assert spread[1] > 2 * spread[0]


def test_a_worse_arm_is_separated_a_copy_is_not_and_the_cheapest_tie_is_recommended():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    arms = {"best": [], "copy": [], "worse": []}
    for seed in range(3):
        good = noisy(labels, 0.9, rng)
        arms["best"].append(run("d", "best", seed, labels, good, steps=1e6))
        arms["copy"].append(run("d", "copy", seed, labels, good, steps=1e4))  # same answers, cheaper
        arms["worse"].append(run("d", "worse", seed, labels, noisy(labels, 0.6, rng), steps=1.0))
    table = verdict.rank_dataset("d", arms, 0.05, np.random.default_rng(0)).set_index("arm")
    assert table.loc["copy", "indistinguishable"] and not table.loc["worse", "indistinguishable"]
    assert table.loc["worse", "p_vs_best_holm"] < 1e-6 and table.loc["copy", "p_vs_best"] == 1.0
    assert table["recommended"].sum() == 1 and table.loc["copy", "recommended"]  # cheapest of the tie
    assert table.loc["worse", "interval_high"] < table.loc["best", "interval_low"]
    text = verdict.recommendation(table.reset_index(), 0.05)
    assert "Recommended: **copy**" in text and "worse" not in text


def test_arms_scored_on_other_records_are_refused():
    labels = np.array([0, 1, 0, 1])
    arms = {"a": [run("d", "a", 0, labels, labels)], "b": [run("d", "b", 0, labels[::-1], labels)]}
    with pytest.raises(ValueError, match="arm b seed 0 was scored on other test records"):
        verdict.correctness(arms, "d")


def test_mean_ranks_across_data_sets_and_the_written_verdict(tmp_path):
    rng = np.random.default_rng(0)
    files, accuracy = [], {"strong": 0.95, "middle": 0.75, "weak": 0.55}
    for d in range(6):
        labels = rng.integers(0, 2, 200)
        for arm, p in accuracy.items():
            for seed in range(2):
                path = tmp_path / f"{d}_{arm}_{seed}.json"
                path.write_text(json.dumps(run(f"set{d}", arm, seed, labels, noisy(labels, p, rng))))
                files.append(path)
    text = verdict.write_verdict(files, tmp_path / "arms.csv", tmp_path / "verdict.md", tmp_path / "cd.png")
    table = pd.read_csv(tmp_path / "arms.csv")
    assert len(table) == 18 and table.groupby("dataset")["recommended"].sum().eq(1).all()
    ranks, sig = verdict.across_datasets([g for _, g in table.groupby("dataset")])
    assert ranks.to_dict() == {"strong": 1.0, "middle": 2.0, "weak": 3.0}
    # six data sets, one arm always ahead: the smallest two-sided exact Wilcoxon p is 1/32,
    # and Holm over three pairs multiplies the smallest by 3
    assert sig.loc["strong", "weak"] == pytest.approx(3 / 32)
    assert "### set0" in text and "Mean rank" in text
    assert (tmp_path / "cd.png").read_bytes()[:4] == b"\x89PNG"
