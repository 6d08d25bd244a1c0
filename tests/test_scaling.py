"""`scaling: auto`: the probe picks the scaling that the data need, from train and valid only,
and every later step (reduction, training, prediction) applies the choice."""

import csv
import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import make_split
from test_tuning import AUDIT
from test_workflow import job_counts, snakemake, tiny_config

from longseq import cli
from longseq.core import data
from longseq.core.data import Dataset
from longseq.steps.choose_scaling import CANDIDATES, choose, probe_budget, resolved
from longseq.steps.train import train_model

CPU = torch.device("cpu")
MODEL = {"embedding": 4, "dropout": 0.0, "channels": 8, "conv_layers": 2, "stride": 4}
TRAIN = {"max_updates": 120, "eval_every": 20, "min_updates": 60, "batch_size": 16, "warmup": 5}


def fit(ds, model, train, seed):
    return train_model(ds, model, train, seed, CPU, False)[1]


def shapes_at_random_gains(n: int, rng, level_is_class: bool) -> Dataset:
    """Two classes of 48-step records. level_is_class False: a sine or a square wave, each
    record at its own gain (10^-2 .. 10^2) and offset, so only a record's own statistics put the
    records on one scale; True: the same noise around a level of 1 or 2 per class, which a
    record's own statistics erase."""

    def split(n):
        labels = rng.integers(0, 2, size=n)
        t = np.linspace(0, 4 * np.pi, 48)
        seqs = []
        for y in labels:
            if level_is_class:
                x = 1.0 + y + 0.3 * rng.normal(size=48)
            else:
                wave = np.sin(t) if y == 0 else np.sign(np.sin(t))
                x = 10 ** rng.uniform(-2, 2) * (wave + 0.2 * rng.normal(size=48)) + rng.normal(0, 50)
            seqs.append(x[:, None].astype(np.float32))
        return make_split(seqs, labels)

    return Dataset(
        "signal", ["a", "b"], {"train": split(n), "valid": split(n // 2), "test": split(n // 2)}, {}
    )


def test_the_probe_picks_instance_scaling_where_only_it_puts_records_on_one_scale():
    ds = shapes_at_random_gains(96, np.random.default_rng(0), level_is_class=False)
    choice = choose(ds, MODEL, TRAIN, fit)
    assert choice["chosen"] == "instance", choice["valid_loss"]
    assert set(choice["valid_loss"]) == set(CANDIDATES)
    assert choice["valid_loss"]["instance"] == min(choice["valid_loss"].values())


def test_the_probe_keeps_the_train_statistics_where_a_records_level_is_its_class():
    ds = shapes_at_random_gains(96, np.random.default_rng(1), level_is_class=True)
    choice = choose(ds, MODEL, TRAIN, fit)
    assert choice["chosen"] != "instance", choice["valid_loss"]
    assert choice["valid_accuracy"][choice["chosen"]] > 0.9  # the levels are easy to tell apart...
    assert choice["valid_accuracy"]["instance"] < 0.75  # ...unless each record is scaled by its own


def test_the_probe_reads_no_test_record():
    """Its test split poisoned (NaN, which any fit or forward pass would spread): every loss finite."""
    ds = shapes_at_random_gains(64, np.random.default_rng(2), level_is_class=False)
    test = ds.splits["test"]
    poisoned = data.Split(np.full_like(test.values, np.nan), test.offsets, test.labels, test.origin)
    choice = choose(Dataset(ds.kind, ds.classes, {**ds.splits, "test": poisoned}, {}), MODEL, TRAIN, fit)
    assert np.isfinite(list(choice["valid_loss"].values())).all()


def test_the_probe_budget_is_a_quarter_of_the_data_sets_and_auto_needs_a_choice():
    assert probe_budget({"max_updates": 1500, "warmup": 100})["max_updates"] == 375
    assert probe_budget({"max_updates": 200})["max_updates"] == 100  # at least 100
    assert resolved({"scaling": "standard"}, None) == {"scaling": "standard"}
    assert resolved({"scaling": "auto"}, {"chosen": "log"}) == {"scaling": "log"}
    with pytest.raises(ValueError, match="no scaling choice was given"):
        resolved({"scaling": "auto"}, None)
    with pytest.raises(ValueError, match="scaling auto is for signals"):
        choose(Dataset("tokens", ["a"], {}, {}), MODEL, TRAIN, fit)


@pytest.mark.parametrize("chosen", ["instance", "log"])
def test_reduce_train_and_predict_apply_the_choice(tmp_path, chosen):
    """Through the CLI as the workflow calls it: the reduction scales records where the choice is
    instance, the model fits the chosen scaling, and predict on the raw records gives what the
    evaluation of the test split reported."""
    ds = shapes_at_random_gains(48, np.random.default_rng(3), level_is_class=False)
    data.save(ds, tmp_path / "ingested")
    (tmp_path / "choice.json").write_text(json.dumps({"chosen": chosen}))
    arm = {"reduce": "full", "model": {"scaling": "auto"}}
    model = {**MODEL, "type": "conv_lstm", "hidden": 6, "readout": "max", "scaling": "auto"}
    train = {**TRAIN, "max_updates": 20, "min_updates": 10, "eval_every": 10}
    scaling = ["--scaling", str(tmp_path / "choice.json")]
    run = lambda *args: cli.main([str(a) for a in args])
    assert (
        run(
            "reduce",
            "--data",
            tmp_path / "ingested",
            "--arm-spec",
            json.dumps(arm),
            *scaling,
            "--out",
            tmp_path / "r",
        )
        == 0
    )
    reduced = data.load(tmp_path / "r")
    assert reduced.meta["arm"]["model"] == {"scaling": chosen}
    raw, scaled = ds.splits["train"][0], reduced.splits["train"][0]
    assert np.allclose(scaled, (raw - raw.mean()) / raw.std(), atol=1e-4) == (chosen == "instance")
    assert (
        run(
            "train",
            "--data",
            tmp_path / "r",
            "--model",
            json.dumps(model),
            "--train",
            json.dumps(train),
            *scaling,
            "--no-progress",
            "--out-model",
            tmp_path / "m.pt",
            "--out-history",
            tmp_path / "h.json",
        )
        == 0
    )
    history = json.loads((tmp_path / "h.json").read_text())
    assert history["scaling"] == chosen and history["scaling_choice"] == {"chosen": chosen}
    assert torch.load(tmp_path / "m.pt", weights_only=False)["model_config"]["scaling"] == chosen
    metrics = tmp_path / "metrics.json"
    assert (
        run(
            "evaluate",
            "--data",
            tmp_path / "r",
            "--model",
            tmp_path / "m.pt",
            "--history",
            tmp_path / "h.json",
            "--dataset",
            "d",
            "--arm",
            "a",
            "--seed",
            0,
            "--arm-spec",
            json.dumps(arm),
            "--out",
            metrics,
        )
        == 0
    )
    reported = json.loads(metrics.read_text())
    assert reported["scaling"] == chosen
    assert (
        run(
            "predict",
            "--model",
            tmp_path / "m.pt",
            "--data",
            tmp_path / "ingested",
            "--out",
            tmp_path / "p.csv",
        )
        == 0
    )
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert [ds.classes.index(r["predicted"]) for r in rows] == reported["predicted"]


@pytest.mark.slow
def test_a_study_with_scaling_auto_chooses_once_per_signal_set_from_train_and_valid(tmp_path, monkeypatch):
    """One choice job for the signal row, none for the token rows; every run of it trains with
    the choice, the verdict names it, and no step of the choice or the training opens test."""
    config = tiny_config(tmp_path)
    config["model"]["scaling"] = "auto"
    config["arms"] = {k: config["arms"][k] for k in ("full", "first")}
    config["seeds"] = [0]
    del config["predict"]
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    counts = job_counts(snakemake(tmp_path, "-n"))
    assert counts["chosen_scaling"] == 1  # the ucr row; syn and reviews are tokens
    audit = tmp_path / "audit"
    audit.mkdir()
    (audit / "sitecustomize.py").write_text(AUDIT)
    monkeypatch.setenv("LONGSEQ_OPENED", str(tmp_path / "opened.tsv"))
    snakemake(tmp_path, pythonpath=audit)
    opened = pd.read_csv(tmp_path / "opened.tsv", sep="\t", names=["step", "file"])
    assert not {"choose-scaling", "train"} & set(opened["step"]), opened
    results = tmp_path / "results"
    choice = json.loads((results / "scaling" / "ucr.json").read_text())
    assert choice["chosen"] == min(choice["valid_loss"], key=choice["valid_loss"].get)
    for arm in ("full", "first"):
        history = json.loads((results / "models" / "ucr" / arm / "seed0" / "history.json").read_text())
        assert history["scaling"] == choice["chosen"] and history["scaling_choice"] == choice
        assert (
            json.loads((results / "models" / "syn" / arm / "seed0" / "history.json").read_text())["scaling"]
            is None
        )
    assert (results / "reduced" / "ucr" / "full_auto").is_dir() and (
        results / "reduced" / "syn" / "full"
    ).is_dir()
    assert (
        f"Scaling chosen on valid (auto): **{choice['chosen']}**"
        in (results / "verdict" / "verdict.md").read_text()
    )
    summary = pd.read_csv(results / "summary.csv")
    runs = summary[(summary["dataset"] == "ucr") & (summary["arm"] != "reference")]
    assert set(runs["scaling"]) == {choice["chosen"]}


def test_the_verdict_names_each_resamples_scaling_when_they_differ():
    """With resampled splits each seed's split has its own choice: the verdict names every one,
    not the first seed's as the data set's (a study of 5 resamples read 'robust' where 3 of its 5
    splits had chosen log)."""
    from longseq.stats import verdict

    def run(seed, chosen):
        return {"seed": seed, "scaling_choice": {"chosen": chosen, "valid_loss": {chosen: 0.1}}}

    picks = ["robust", "log", "instance", "log", "log"]
    arms = {arm: [run(seed, name) for seed, name in enumerate(picks)] for arm in ("a", "b")}
    text = verdict.scaling_text(arms)
    assert "log (seeds 1, 3, 4), robust (seed 0), instance (seed 2)" in text and "**robust**" not in text
    assert (
        verdict._scaling(arms)
        == "auto, per resample: log (seeds 1, 3, 4), robust (seed 0), instance (seed 2)"
    )
    same = {arm: [run(seed, "log") for seed in range(3)] for arm in ("a", "b")}
    assert "**log**" in verdict.scaling_text(same) and verdict._scaling(same) == "auto: log"
