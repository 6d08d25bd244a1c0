"""The search: trials fixed up front and reproducible, trial 0 the untuned settings, the choice
made on valid loss alone, recorded through Optuna; and a tiny tuned study through the workflow."""

import copy
import json

import pandas as pd
import pytest
import yaml
from test_workflow import job_counts, snakemake, tiny_config

from longseq.steps import choose, tuning

TUNE = {
    "trials": 5,
    "seed": 3,
    "space": {
        "train": {"lr": {"low": 1e-4, "high": 1e-2, "log": True}, "batch_size": [8, 16, 32]},
        "model": {"hidden": [8, 16], "dropout": {"low": 0.0, "high": 0.5}},
    },
    "arms": {"first": {"reduce": {"length": {"low": 5, "high": 25, "step": 5}}}},
}


def test_trials_are_fixed_by_the_seed_and_trial_0_is_the_untuned_settings():
    trials = tuning.draw_trials(TUNE, "first")
    assert trials == tuning.draw_trials(TUNE, "first") and len(trials) == 5
    assert trials[0] == {}
    assert trials != tuning.draw_trials(dict(TUNE, seed=4), "first")
    for params in trials[1:]:
        assert 1e-4 <= params["train.lr"] <= 1e-2 and params["train.batch_size"] in (8, 16, 32)
        assert params["reduce.length"] in (5, 10, 15, 20, 25)
    assert len({p["train.lr"] for p in trials[1:]}) == 4


def test_more_trials_keep_the_earlier_ones_and_arms_share_the_common_draws():
    five, seven = tuning.draw_trials(TUNE, "first"), tuning.draw_trials(dict(TUNE, trials=7), "first")
    assert seven[:5] == five
    other = tuning.draw_trials(TUNE, "full")
    for mine, theirs in zip(five[1:], other[1:]):
        assert "reduce.length" not in theirs
        assert {k: v for k, v in mine.items() if k != "reduce.length"} == theirs


def test_an_untuned_setting_outside_the_space_is_refused_with_its_name():
    space = tuning.arm_space(TUNE, "full")
    settings = {"train": {"lr": 0.003, "batch_size": 64}, "model": {"hidden": 8, "dropout": 0.1}}
    with pytest.raises(ValueError, match=r"train.batch_size = 64 is not in its search space \[8, 16, 32\]"):
        tuning.untuned_values(space, settings)


def test_a_reduction_knob_the_arm_lacks_is_refused():
    with pytest.raises(ValueError, match="reduce.window is not a setting of this arm"):
        tuning.apply({"reduce": "truncate", "length": 10}, {"reduce.window": 3}, "reduce")
    assert tuning.apply(
        {"reduce": "truncate", "length": 10}, {"reduce.length": 3, "train.lr": 1}, "reduce"
    ) == {
        "reduce": "truncate",
        "length": 3,
    }


def test_the_choice_is_the_lowest_valid_loss_and_every_trial_is_recorded(tmp_path):
    space = tuning.arm_space(TUNE, "full")
    trials = [{"train.lr": 0.003, "train.batch_size": 16, "model.hidden": 8, "model.dropout": 0.1}]
    trials += tuning.draw_trials(TUNE, "full")[1:]
    losses = [0.60, 0.55, 0.41, 0.70, 0.41]  # a tie goes to the earlier trial
    files = []
    for number, loss in enumerate(losses):
        history = {
            "best_valid_loss": loss,
            "best_valid_accuracy": 1 - loss,
            "updates": 10,
            "still_improving": False,
            "train_seconds": 1.0,
        }
        files.append(tmp_path / f"trial{number}.json")
        files[-1].write_text(json.dumps(history))
    chosen = choose.choose(space, trials, files, tmp_path / "trials.csv", tmp_path / "chosen.json")
    assert chosen["trial"] == 2 and chosen["params"] == trials[2]
    assert chosen["untuned_valid_loss"] == 0.60
    assert json.loads((tmp_path / "chosen.json").read_text()) == chosen
    table = pd.read_csv(tmp_path / "trials.csv")
    assert list(table["valid_loss"]) == losses and list(table["trial"]) == [0, 1, 2, 3, 4]
    assert "params_train.lr" in table


AUDIT = r"""
import os, sys

def _log_test_split_reads(event, args):
    # Python's audit hook sees every file a process opens (NumPy's memory maps included)
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        name = os.path.basename(os.fsdecode(args[0]))
        if name.startswith("test.") and name.endswith(".npy"):
            with open(os.environ["LONGSEQ_OPENED"], "a") as log:
                log.write(f"{sys.argv[1] if len(sys.argv) > 1 else sys.argv[0]}\t{os.fsdecode(args[0])}\n")

sys.addaudithook(_log_test_split_reads)
"""


@pytest.mark.slow
def test_a_tuned_study_runs_its_trials_as_jobs_and_trains_the_seeds_with_the_choice(tmp_path, monkeypatch):
    config = tiny_config(tmp_path)
    sheet = tmp_path / "config" / "datasets.tsv"
    rows = [line for line in sheet.read_text().splitlines() if not line.startswith(("ucr", "reviews"))]
    sheet.write_text("\n".join(rows) + "\n")  # the synthetic row only
    config["arms"] = {k: config["arms"][k] for k in ("full", "first")}
    config["seeds"] = [0]
    del config["predict"]  # it uses the reviews data set, left out here
    config["tune"] = {
        "trials": 3,
        "space": {"train": {"lr": {"low": 1e-3, "high": 3e-2, "log": True}}, "model": {"hidden": [8, 12]}},
        "arms": {"first": {"reduce": {"length": [10, 20]}}},
    }
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    counts = job_counts(snakemake(tmp_path, "-n"))
    assert counts["trial_history"] == 2 * 3 and counts["chosen_trial"] == 2
    assert counts["trial_reduction"] == 3  # only the arm whose reduction is searched
    audit = tmp_path / "audit"
    audit.mkdir()
    (audit / "sitecustomize.py").write_text(AUDIT)  # loaded by every Python process of the study
    monkeypatch.setenv("LONGSEQ_OPENED", str(tmp_path / "opened.tsv"))
    snakemake(tmp_path, pythonpath=audit)
    opened = pd.read_csv(tmp_path / "opened.tsv", sep="\t", names=["step", "file"])
    # the test split is read by the steps that pass it on (ingest, reduce), by the data set
    # table (its size), by evaluation and by the reference (once its fit is saved, see
    # test_references.py); never by a trial's training, the choice of a trial, or the seeds'
    # training
    assert set(opened["step"]) == {"ingest", "reduce", "describe", "evaluate", "reference"}, opened
    assert not opened["file"][opened["step"] == "evaluate"].str.contains("/tuning/").any()
    chosen = pd.read_csv(tmp_path / "results" / "tuning" / "chosen.csv").set_index("arm")
    assert (chosen["trials"] == 3).all() and (chosen["valid_loss"] <= chosen["untuned_valid_loss"]).all()
    for arm in ("full", "first"):
        pick = json.loads((tmp_path / "results" / "tuning" / "syn" / arm / "chosen.json").read_text())
        history = json.loads(
            (tmp_path / "results" / "models" / "syn" / arm / "seed0" / "history.json").read_text()
        )
        assert history["tuned"] == pick["params"]
        # the trials train at the search's own seed, which no final run uses
        trial = tmp_path / "results" / "tuning" / "syn" / arm / "trial0" / "history.json"
        trial = json.loads(trial.read_text())
        assert trial["seed"] == 1000 and history["seed"] == 0
        assert history["model"]["hidden"] == pick["params"]["model.hidden"]
        assert history["config"]["lr"] == pytest.approx(pick["params"]["train.lr"])
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    first = summary[summary["arm"] == "first"]
    pick = json.loads((tmp_path / "results" / "tuning" / "syn" / "first" / "chosen.json").read_text())
    assert (first["mean_steps"] <= pick["params"]["reduce.length"]).all()
    assert (tmp_path / "results" / "report" / "tuning.png").read_bytes()[:4] == b"\x89PNG"
    # one arm's own search space edited: its drawn trials rerun (trial 0 is the untuned settings,
    # kept), then its choice, its seeds and the aggregates; the other arm's jobs do not
    edited = copy.deepcopy(config)
    edited["tune"]["arms"]["first"]["reduce"]["length"] = [10, 30]
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(edited))
    changed = [
        n
        for n, (old, new) in enumerate(
            zip(tuning.draw_trials(config["tune"], "first"), tuning.draw_trials(edited["tune"], "first"))
        )
        if old != new
    ]
    assert changed and 0 not in changed
    out = snakemake(tmp_path, "-n")
    counts = job_counts(out)
    assert counts["trial_reduction"] == counts["trial_history"] == len(changed), (changed, counts)
    assert counts["chosen_trial"] == counts["trained_model"] == counts["test_metrics"] == 1, counts
    assert "arm=full" not in out
    # one more trial: only it runs among the trials; the earlier ones are kept
    config["tune"]["trials"] = 4
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    counts = job_counts(snakemake(tmp_path, "-n"))
    assert counts["trial_history"] == 2 and counts.get("trial_reduction", 0) == 1
