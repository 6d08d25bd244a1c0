"""The verdict, checked by its error rates on simulated studies with a known answer (no equal
arm called worse more often than alpha, no collapsed or worse arm recommended, an equal cheaper
arm recommended when the data can show it), its variances against the spread they estimate,
and the written answer."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from longseq.stats import calibration, mcb, verdict
from longseq.stats.calibration import Scenario


def rank(arms, rng, alpha=0.05, margin=0.02):
    return verdict.rank_dataset("simulated", arms, alpha, margin)


def run(dataset, arm, seed, labels, predicted, flops=1e6, majority=0):
    return {
        "dataset": dataset,
        "arm": arm,
        "seed": seed,
        "labels": list(map(int, labels)),
        "predicted": list(map(int, predicted)),
        "classes": ["0", "1"],
        "majority_class": majority,
        "inference_flops": flops,
        "train_flops": flops * 1e4,
        "steps_read": 1e6,
        "train_seconds": 10.0,
        "peak_memory_mb": 100.0,
    }


def noisy(labels, accuracy, rng):
    return np.where(rng.random(len(labels)) < accuracy, labels, 1 - labels)


@pytest.mark.parametrize(
    "arms, seeds, resampled", [(10, 3, False), (4, 5, False), (10, 3, True), (4, 5, True)]
)
def test_equal_arms_are_called_worse_in_at_most_7_percent_of_simulated_studies(arms, seeds, resampled):
    """Every arm the same training procedure (seed SD 0.03, 300 records with a shared
    difficulty): the old verdict called one worse in 0.675 of studies at 10 x 3. Resampled:
    each seed scored on its own records (and trained on its own split)."""
    rates = calibration.error_rates(Scenario(arms=arms, seeds=seeds, resampled=resampled), 200, rank, seed=1)
    assert rates["an equal arm called worse"] <= 0.07


def test_a_truly_worse_cheapest_arm_is_called_worse_often_and_never_recommended():
    rates = calibration.error_rates(Scenario(arms=4, seeds=5, worse_by=0.05), 100, rank, seed=2)
    assert rates["cheapest arm called worse"] >= 0.25 and rates["cheapest arm recommended"] == 0


def test_an_arm_with_one_collapsed_seed_is_not_recommended():
    """The cheapest arm's last seed is at chance; its other seeds as good as the rest."""
    rates = calibration.error_rates(Scenario(arms=4, seeds=5, collapsed=True), 50, rank, seed=3)
    assert rates["cheapest arm recommended"] == 0
    # one constructed case, as a new user met it: 2 seeds, one collapsed, a high mean
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    arms = {
        "unstable": [
            run("d", "unstable", 0, labels, noisy(labels, 0.98, rng), flops=1),
            run("d", "unstable", 1, labels, noisy(labels, 0.72, rng), flops=1),
        ],
        "steady": [run("d", "steady", s, labels, noisy(labels, 0.96, rng), flops=10) for s in (0, 1)],
    }
    table = rank(arms, rng).set_index("arm")
    assert not table.loc["unstable", "recommended"] and table.loc["steady", "recommended"]


def test_a_cheaper_arm_truly_equal_is_recommended_when_the_data_can_show_it():
    """3 arms x 10 seeds, 3,000 test records, stable seeds (SD 0.005): the cheapest is shown
    within the 0.02 margin and recommended; at 300 records and 3 seeds nothing is shown."""
    stable = Scenario(arms=3, seeds=10, records=3000, seed_sd=0.005)
    assert calibration.error_rates(stable, 30, rank, seed=4)["cheapest arm recommended"] >= 0.9
    rng = np.random.default_rng(5)
    table = rank(calibration.simulate(Scenario(arms=3, seeds=3), rng), rng)
    assert not table["within_margin"].any() and table.loc[table["recommended"], "best"].all()


def test_the_gaps_variance_has_the_spread_of_seeds_and_records():
    """Two arms that err on different records (so the test set's draw matters, not only the
    seeds): the estimated variance of the gap, averaged over studies, matches the gap's
    spread over studies that draw both seeds and records anew."""
    rng = np.random.default_rng(6)
    gaps, estimates = [], []
    for _ in range(400):
        shared, own = rng.standard_normal(300), rng.standard_normal((2, 300))
        logits = 1.4 + shared + own[:, None] + rng.standard_normal((2, 4, 1)) * 0.25  # arm, seed, record
        values = (rng.random((2, 4, 300)) < 1 / (1 + np.exp(-logits))).astype(float)
        v = mcb.variances(values)
        gaps.append(v["mean"][1] - v["mean"][0])
        estimates.append(v["pair_var"][0, 1])
    assert np.mean(estimates) == pytest.approx(np.var(gaps, ddof=1), rel=0.15)


def test_macro_f1_record_values_average_to_macro_f1_and_give_its_bootstrap_spread():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(7)
    labels = rng.choice(3, 400, p=[0.7, 0.2, 0.1])
    predicted = np.where(rng.random(400) < 0.7, labels, rng.integers(0, 3, 400))
    values = mcb.record_values(labels, predicted, 3, "macro_f1")
    assert values.mean() == pytest.approx(f1_score(labels, predicted, average="macro"), abs=1e-12)
    boot = [
        f1_score(labels[i], predicted[i], average="macro", labels=[0, 1, 2])
        for i in (rng.integers(0, 400, 400) for _ in range(2000))
    ]
    assert values.std() / np.sqrt(400) == pytest.approx(np.std(boot), rel=0.1)


def test_seed_sets_must_match_and_a_run_given_twice_is_refused(tmp_path):
    labels = np.array([0, 1, 0, 1])
    arms = {
        "a": [run("d", "a", s, labels, labels) for s in (0, 1, 2)],
        "b": [run("d", "b", s, labels, labels) for s in (0, 1, 3)],
    }
    with pytest.raises(ValueError, match=r"different seeds \(a \[0, 1, 2\]; b \[0, 1, 3\]\)"):
        verdict.rank_dataset("d", arms, 0.05, 0.02)
    files = []
    for name in ("one.json", "two.json"):
        (tmp_path / name).write_text(json.dumps(run("d", "a", 0, labels, labels)))
        files.append(tmp_path / name)
    with pytest.raises(ValueError, match="two.json: data set d, arm a, seed 0 is also in .*one.json"):
        verdict.load_runs(files)


def test_the_gaps_variance_with_resampled_records_has_their_spread():
    """Each seed draws its own 300 records, which both arms share (resampled splits): the
    nested estimate of the gap's variance matches the gap's spread over studies (on the wide
    side: the seed part, from 4 seeds, is cut at zero; measured 1.16 times the spread), and is
    below the crossed one, which takes the records for shared by the seeds and their part for fixed."""
    rng = np.random.default_rng(7)
    gaps, nested, crossed = [], [], []
    for _ in range(400):
        shared, own = rng.standard_normal((1, 4, 300)) * 3, rng.standard_normal((2, 4, 300)) * 2
        logits = 1.4 + shared + own + rng.standard_normal((2, 4, 1)) * 0.25  # arm, seed, record
        values = (rng.random((2, 4, 300)) < 1 / (1 + np.exp(-logits))).astype(float)
        gaps.append(values[1].mean() - values[0].mean())
        nested.append(mcb.nested_variances(values)["pair_var"][0, 1])
        crossed.append(mcb.variances(values)["pair_var"][0, 1])
    assert 0.9 < np.mean(nested) / np.var(gaps, ddof=1) < 1.25
    assert np.mean(nested) < np.mean(crossed)


def test_seeds_on_their_own_records_are_read_as_resampled_and_arms_of_a_seed_must_share_them():
    rng = np.random.default_rng(8)
    first, second = rng.integers(0, 2, 20), rng.integers(0, 2, 20)
    arms = {
        arm: [
            run("d", arm, 0, first, first) | {"records": list(range(20))},
            run("d", arm, 1, second, noisy(second, 0.8, rng)) | {"records": list(range(20, 40))},
        ]
        for arm in ("a", "b")
    }
    scored = verdict.record_values(arms, "d", "accuracy")
    assert scored.nested and scored.values.shape == (2, 2, 20) and scored.constant.shape == (2, 20)
    assert not verdict.record_values({a: [r[0]] for a, r in arms.items()}, "d", "accuracy").nested
    table = rank(arms, rng)
    assert table["resampled"].all()
    assert "2 seeds (each on its own resample of 20 test records)" in verdict.recommendation(table)
    shorter = {
        a: [r[0], r[1] | {"labels": r[1]["labels"][:15], "predicted": r[1]["predicted"][:15]}]
        for a, r in arms.items()
    }
    for runs in shorter.values():
        runs[1]["records"] = list(range(20, 35))
    scored = verdict.record_values(shorter, "d", "accuracy")  # resamples of groups differ in size
    assert (
        np.isnan(scored.values[:, 1, 15:]).all()
        and np.isfinite(mcb.nested_variances(scored.values)["pair_var"]).all()
    )
    assert rank(shorter, rng)["test_records"].iloc[0] == 18  # 20 and 15, their mean rounded
    arms["b"][1]["records"] = list(range(40, 60))
    with pytest.raises(ValueError, match="arm b seed 1 was scored on other test records than arm a"):
        verdict.record_values(arms, "d", "accuracy")


def test_arms_scored_on_other_records_are_refused():
    labels = np.array([0, 1, 0, 1])
    arms = {"a": [run("d", "a", 0, labels, labels)], "b": [run("d", "b", 0, labels[::-1], labels)]}
    with pytest.raises(ValueError, match="arm b seed 0 was scored on other test records"):
        verdict.record_values(arms, "d", "accuracy")


def test_ties_go_to_the_cheaper_arm_and_the_best_is_tested_against_the_majority_class():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 2, 300)
    same = [noisy(labels, 0.9, rng) for _ in range(3)]
    arms = {
        "dear": [run("d", "dear", s, labels, same[s], flops=100) for s in range(3)],
        "cheap": [run("d", "cheap", s, labels, same[s], flops=1) for s in range(3)],
    }
    table = rank(arms, rng)
    assert table.loc[0, "arm"] == "cheap" and table.loc[0, "best"]
    assert table.loc[0, "p_above_majority"] < 1e-6
    chance = {a: [run("d", a, s, labels, rng.integers(0, 2, 300)) for s in range(3)] for a in ("x", "y")}
    table = rank(chance, rng)
    assert table.loc[0, "p_above_majority"] > 0.05
    assert "not shown above the train-majority class" in verdict.recommendation(table)


def test_the_level_in_the_text_comes_from_alpha():
    rng = np.random.default_rng(9)
    text = verdict.recommendation(rank(calibration.simulate(Scenario(arms=3, seeds=3), rng), rng, alpha=0.1))
    assert "90% interval" in text and "90% simultaneous" in text and "95%" not in text


def test_friedman_is_iman_davenports_f_on_a_hand_worked_case():
    """3 data sets, arms ranked (1,2,3), (1,3,2), (2,1,3): mean ranks 4/3, 2, 8/3, so
    chi2 = 12 n / (k (k + 1)) * (sum of squared mean ranks - k (k + 1)^2 / 4) = 8/3 and
    F = (n - 1) chi2 / (n (k - 1) - chi2) = 1.6 on (2, 4) df, whose upper tail is
    (1 + 2 F / 4)^-2 = 1 / 3.24."""
    scores = {"s1": (0.9, 0.8, 0.7), "s2": (0.9, 0.7, 0.8), "s3": (0.8, 0.9, 0.7)}
    tables = [pd.DataFrame({"dataset": d, "arm": ["a", "b", "c"], "mean": m}) for d, m in scores.items()]
    statistic, p, df1, df2 = verdict.friedman(tables)
    assert statistic == pytest.approx(1.6) and (df1, df2) == (2, 4) and p == pytest.approx(1 / 3.24)


def test_ranks_across_data_sets_use_only_the_arms_every_data_set_has():
    tables = [
        pd.DataFrame({"dataset": "s1", "arm": ["a", "extra", "b"], "mean": [0.7, 0.9, 0.6]}),
        pd.DataFrame({"dataset": "s2", "arm": ["a", "b"], "mean": [0.8, 0.5]}),
    ]
    ranks, _ = verdict.across_datasets(tables)
    assert ranks.to_dict() == {"a": 1.0, "b": 2.0}


def write_runs(tmp_path, accuracy, datasets, records, seeds, rng, extra=None):
    """Metric files of simulated runs: per data set one test split of `records`, per arm and
    seed predictions right with the arm's accuracy; `extra(arm)` adds fields to its runs."""
    files = []
    for d in range(datasets):
        labels = rng.integers(0, 2, records)
        for arm, p in accuracy.items():
            for seed in range(seeds):
                m = run(f"set{d}", arm, seed, labels, noisy(labels, p, rng)) | (extra(arm) if extra else {})
                path = tmp_path / f"{d}_{arm}_{seed}.json"
                path.write_text(json.dumps(m))
                files.append(path)
    return files


def test_mean_ranks_across_data_sets_and_the_written_verdict(tmp_path):
    accuracy = {"strong": 0.95, "middle": 0.75, "weak": 0.55}
    files = write_runs(tmp_path, accuracy, datasets=6, records=200, seeds=4, rng=np.random.default_rng(0))
    text = verdict.write_verdict(files, tmp_path / "arms.csv", tmp_path / "verdict.md", tmp_path / "cd.png")
    table = pd.read_csv(tmp_path / "arms.csv")
    assert len(table) == 18 and table.groupby("dataset")["recommended"].sum().eq(1).all()
    assert table[table["arm"] == "strong"][["best", "recommended"]].all().all()
    assert table[table["arm"] == "weak"]["worse"].all()
    ranks, sig = verdict.across_datasets([g for _, g in table.groupby("dataset")])
    assert ranks.to_dict() == {"strong": 1.0, "middle": 2.0, "weak": 3.0}
    # six data sets, one arm always ahead: the smallest two-sided exact Wilcoxon p is 1/32,
    # and Holm over three pairs multiplies the smallest by 3
    assert sig.loc["strong", "weak"] == pytest.approx(3 / 32)
    assert "### set0" in text and "Mean rank" in text and "Iman–Davenport" in text
    assert (tmp_path / "cd.png").read_bytes()[:4] == b"\x89PNG"


def test_the_first_page_opens_with_one_row_per_data_set_and_the_forest_plot(tmp_path):
    """The answer at a glance: a table row per data set (best, recommended and why, the LSTM
    against the bag) above the paragraphs, and the forest plot inlined in the report's page."""
    accuracy = {"strong": 0.95, "middle": 0.75, "bag": 0.55}
    files = write_runs(tmp_path, accuracy, datasets=3, records=200, seeds=3, rng=np.random.default_rng(1))
    for path in files:  # the weak arm is a bag of steps, the others LSTMs
        m = json.loads(path.read_text())
        path.write_text(
            json.dumps(m | {"arm_params": {"model": {"type": "bag" if m["arm"] == "bag" else "lstm"}}})
        )
    out = {name: tmp_path / name for name in ("arms.csv", "verdict.md", "cd.png", "front.rst", "forest.png")}
    verdict.write_verdict(
        files,
        *[out[n] for n in ("arms.csv", "verdict.md", "cd.png")],
        front_rst=out["front.rst"],
        forest=out["forest.png"],
    )
    md = out["verdict.md"].read_text()
    glance = md[md.index("## At a glance") : md.index("### set0")]
    rows = [line for line in glance.splitlines() if line.startswith("| set")]
    assert len(rows) == 3 and all("| strong 0." in r and "strong: the best" in r for r in rows), glance
    assert all("| yes: strong +0." in r for r in rows), rows  # 0.95 against 0.55: shown better
    front = out["front.rst"].read_text()
    assert front.index("At a glance\n") < front.index(".. list-table::") < front.index("Verdict per data set")
    assert ".. image:: data:image/png;base64,iVBOR" in front  # the PNG itself, inlined
    assert out["forest.png"].read_bytes()[:4] == b"\x89PNG"


def test_longseq_calibrate_prints_the_docs_tables(capsys):
    from longseq.cli import main

    main(["calibrate", "--studies", "2"])
    lines = capsys.readouterr().out.splitlines()
    rows = len(calibration.SCENARIOS) + len(calibration.RESAMPLED)
    assert lines[0].startswith("| split | arms × seeds |") and len(lines) == 2 + rows
    main(["calibrate", "--studies", "2", "--power"])
    lines = capsys.readouterr().out.splitlines()
    assert "worse by 0.05 called worse" in lines[0] and len(lines) == 2 + len(calibration.POWER) // 2


def test_the_interpolated_studentized_range_quantile_is_scipys_within_a_percent():
    from scipy.stats import studentized_range

    df = np.array([1.3, 3.7, 9.5, 55.0, 4000.0])
    exact = [studentized_range.ppf(0.95, 6, d) for d in df]
    np.testing.assert_allclose(mcb.range_quantile(6, 0.95, df), exact, rtol=0.01)


def test_an_arm_with_a_collapsed_seed_keeps_its_spread_to_itself():
    """The other arms' intervals are as wide with the collapse as without it (the collapsed
    arm's spread is kept out of the pool: an F test against the others), and its own widens."""
    widths = []
    for collapsed in (False, True):
        rng = np.random.default_rng(11)
        table = rank(calibration.simulate(Scenario(arms=4, seeds=5, collapsed=collapsed), rng), rng)
        widths.append((table["interval_high"] - table["interval_low"]).set_axis(table["arm"]).sort_index())
    steady, collapsed = widths
    np.testing.assert_allclose(collapsed.drop("arm0"), steady.drop("arm0"), rtol=0.1)
    assert collapsed["arm0"] > 3 * steady["arm0"]


def test_the_reference_is_a_family_of_its_own_never_recommended_but_ranked(tmp_path):
    """A reference far above every arm: the recommendation stays among the arms (the bag
    included), its line names the best LSTM-based arm (not the bag, not S4D) and the gap's paired
    interval, and the ranks across data sets place it first."""

    def extra(arm):
        model = {"model": {"type": arm}} if arm in ("bag", "s4d") else {}
        return {"arm_params": {"reduce": "full", **model}} | (
            {"reference": "minirocket"} if arm == "reference" else {}
        )

    accuracy = {"reference": 0.97, "bag": 0.85, "s4d": 0.8, "lstm": 0.75}  # S4D: no LSTM either
    files = write_runs(
        tmp_path, accuracy, datasets=3, records=300, seeds=3, rng=np.random.default_rng(1), extra=extra
    )
    text = verdict.write_verdict(files, tmp_path / "arms.csv", tmp_path / "verdict.md", tmp_path / "cd.png")
    table = pd.read_csv(tmp_path / "arms.csv")
    reference = table[table["family"] == "reference"]
    assert len(reference) == 3 and not reference["recommended"].any() and not reference["best"].any()
    assert table[table["arm"] == "bag"]["recommended"].all()  # the best of the arms, not the reference
    assert (reference["best_lstm_arm"] == "lstm").all() and (reference["gap_low"] > 0.1).all()
    assert "Reference (minirocket" in text and "Best LSTM-based arm: lstm" in text
    ranks, _ = verdict.across_datasets([g for _, g in table.groupby("dataset")])
    assert ranks.idxmin() == "reference"


def test_intervals_of_a_tiny_study_stay_within_zero_and_one():
    """Two seeds and twelve records: a t interval around 0.96 reaches past 1 unless bounded."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 12)
    arms = {
        "near_perfect": [
            run("d", "near_perfect", s, labels, noisy(labels, 0.9 + 0.1 * s, rng)) for s in range(2)
        ],
        "poor": [run("d", "poor", s, labels, noisy(labels, 0.1 * s, rng)) for s in range(2)],
    }
    table = rank(arms, rng)
    assert (table["interval_low"] >= 0).all() and (table["interval_high"] <= 1).all(), table
    assert table["interval_high"].max() == 1.0 and table["interval_low"].min() == 0.0


def _summarizer_study(rng, lstm_gain, seeds=5, records=300):
    """A learned summarizer and its ablation (same front end and readout, no LSTM), each seed a
    draw around its accuracy, records sharing a difficulty across arms and seeds."""
    labels = rng.integers(0, 2, records)
    difficulty = rng.normal(0, 1, records)
    arms = {}
    for arm, model, accuracy in [
        ("learned_summary", {"type": "conv_lstm", "readout": "max", "hidden": 32}, 0.75 + lstm_gain),
        ("learned_summary_no_lstm", {"type": "conv", "readout": "max"}, 0.75),
    ]:
        arms[arm] = []
        for seed in range(seeds):
            p = 1 / (1 + np.exp(-(np.log(accuracy / (1 - accuracy)) + rng.normal(0, 0.15) - difficulty)))
            m = run("simulated", arm, seed, labels, np.where(rng.random(records) < p, labels, 1 - labels))
            arms[arm].append(m | {"arm_params": {"reduce": "full", "model": model}})
    return arms


def test_the_lstm_is_said_to_add_nothing_where_it_adds_nothing_and_to_add_where_it_does():
    """Simulated studies with a known answer: an LSTM that adds nothing is said to add or to hurt
    in at most 7 % of them; one that adds 0.10 is said to add in most."""
    rng = np.random.default_rng(4)
    said = {0.0: [], 0.10: []}
    for gain, texts in said.items():
        for _ in range(100):
            texts.append(verdict.lstm_text("simulated", _summarizer_study(rng, gain), 0.05, "accuracy"))
    equal = np.mean(["adds nothing measurable" not in text for text in said[0.0]])
    assert equal <= 0.07, equal
    assert np.mean(["The LSTM adds at least" in text for text in said[0.10]]) >= 0.8
    assert verdict.ablation_pairs(_summarizer_study(rng, 0.0)) == [
        ("learned_summary", "learned_summary_no_lstm")
    ]
    arms = _summarizer_study(rng, 0.0)
    for m in arms["learned_summary_no_lstm"]:  # another scaling: not the same front end
        m["arm_params"]["model"]["scaling"] = "instance"
    assert verdict.ablation_pairs(arms) == [] and verdict.lstm_text("simulated", arms, 0.05, "accuracy") == ""


def test_the_sentences_stay_in_the_metrics_range_and_the_best_is_never_below_itself():
    """Two seeds of twelve records, seeds that disagree: the intervals are wide. No distance in
    the text exceeds the range of accuracy, none is negative, the best is named as such, and
    the text says what two seeds cannot show."""
    import re

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 12)
    arms = {
        name: [run("d", name, s, labels, noisy(labels, acc + 0.3 * s, rng)) for s in range(2)]
        for name, acc in (("a", 0.6), ("b", 0.5), ("c", 0.4))
    }
    for margin in (0.02, 0.9):  # nothing within the margin; everything within it
        table = verdict.rank_dataset("d", arms, 0.05, margin)
        text = verdict.recommendation(table)
        distances = [float(x) for x in re.findall(r"(?:closer than|at most) (-?[\d.]+)", text)]
        assert all(0 <= d <= 1 for d in distances), text
        assert "With 2 seeds" in text and "Run 3 or more seeds" in text
        assert ((table["gap_high"] <= 1) & (table["gap_low"] >= -1)).all()
    labels = rng.integers(0, 2, 400)  # a best well above the others: its gap to them is negative
    arms = {
        name: [run("d", name, s, labels, noisy(labels, acc, rng)) for s in range(3)]
        for name, acc in (("a", 0.95), ("b", 0.6))
    }
    table = verdict.rank_dataset("d", arms, 0.05, 0.02)
    assert table.loc[
        0, "gap_high"
    ] < 0 and "Shown within 0.02 of the best: a (the best)." in verdict.recommendation(table)


def test_a_bag_as_good_as_every_lstm_strategy_is_said_in_words():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 2, 400)
    arms = {}
    for name, model, accuracy in (("bag_baseline", "bag", 0.9), ("full", "lstm", 0.6)):
        arms[name] = [
            run("d", name, s, labels, noisy(labels, accuracy, rng))
            | {"arm_params": {"model": {"type": model}}}
            for s in range(3)
        ]
    text = verdict.recommendation(verdict.rank_dataset("d", arms, 0.05, 0.02))
    assert "The non-recurrent baseline (bag_baseline, a bag of steps: no LSTM, no order) is as good" in text
    assert "it is the best arm here" in text
    arms["full"] = [m | {"predicted": list(map(int, noisy(labels, 0.97, rng)))} for m in arms["full"]]
    assert "non-recurrent baseline" not in verdict.recommendation(verdict.rank_dataset("d", arms, 0.05, 0.02))


def test_the_seeds_it_plans_for_show_the_margin_and_a_small_shared_test_split_is_named():
    """The planning figure, checked by what it plans: from 3-seed studies of three stable equal
    arms (3,000 records) it plans a few seeds (median 4 measured), and studies with 7 seeds do
    show an arm within the margin. With 100 shared test records on which arms err apart, it
    says that no number of seeds would do without resampling; resampled, it does not."""
    rng = np.random.default_rng(9)
    stable = Scenario(arms=3, seeds=3, records=3000, seed_sd=0.005)
    plans = [
        rank(calibration.simulate(stable, rng), rng).loc[1:, "seeds_for_margin"].min() for _ in range(20)
    ]
    assert 4 <= np.median(plans) <= 10
    seven = [rank(calibration.simulate(replace(stable, seeds=7), rng), rng) for _ in range(20)]
    assert np.mean([t.loc[~t["best"], "within_margin"].any() for t in seven]) >= 0.8
    apart = Scenario(seeds=5, records=100, difficulty_sd=4, interaction_sd=2)
    fixed, resampled = (
        rank(calibration.simulate(replace(apart, resampled=r), rng), rng) for r in (False, True)
    )
    assert (fixed.loc[1:, "records_reach"] > 0.04).all() and (resampled.loc[1:, "records_reach"] == 0).all()
    assert np.isinf(fixed["seeds_for_margin"][1:]).all()
    fixed.loc[1, "mean"] = fixed.loc[0, "mean"] - 0.01  # an arm close to the best, yet not shown
    assert "The test split is too small for any number of seeds" in verdict.recommendation(fixed)
