import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from longseq.cli import main
from longseq.core import data
from longseq.steps.evaluate import evaluate
from longseq.steps.saved import load_model, save_model, write_history
from longseq.steps.train import train_model

MODEL = {"hidden": 8, "embedding": 4}
TRAIN = {"max_updates": 12, "eval_every": 4, "min_updates": 4, "patience": 2, "warmup": 2, "batch_size": 4}


def test_same_seed_gives_the_same_numbers_on_cpu(token_dataset):
    _, a = train_model(token_dataset, MODEL, TRAIN, seed=3, device=torch.device("cpu"), progress=False)
    _, b = train_model(token_dataset, MODEL, TRAIN, seed=3, device=torch.device("cpu"), progress=False)
    _, c = train_model(token_dataset, MODEL, TRAIN, seed=4, device=torch.device("cpu"), progress=False)

    def strip(h):
        return [{k: v for k, v in e.items() if k != "seconds"} for e in h["evaluations"]]

    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_early_stopping_keeps_the_lowest_valid_loss(signal_dataset):
    _model, history = train_model(
        signal_dataset,
        MODEL,
        {"max_updates": 200, "eval_every": 5, "min_updates": 10, "patience": 1, "batch_size": 4, "lr": 0.05},
        seed=0,
        device=torch.device("cpu"),
        progress=False,
    )
    evaluations = history["evaluations"]
    best = min(evaluations, key=lambda e: (e["valid_loss"], -e["valid_accuracy"]))
    assert history["best_update"] == best["update"] and history["best_valid_loss"] == best["valid_loss"]
    assert history["stopped_by"] == "patience" and history["updates"] < 200
    assert evaluations[-1]["update"] - history["best_update"] == 5  # one evaluation of patience
    assert not history["still_improving"]
    assert history["peak_memory_mb"] > 0 and history["train_seconds"] > 0


def test_saved_model_reproduces_its_valid_accuracy(tmp_path, token_dataset):
    model, history = train_model(
        token_dataset, MODEL, TRAIN, seed=1, device=torch.device("cpu"), progress=False
    )
    save_model(model, token_dataset, MODEL, tmp_path / "m.pt")
    write_history(history, tmp_path / "h.json")
    metrics = evaluate(
        tmp_path / "m.pt", tmp_path / "h.json", token_dataset, torch.device("cpu"), split="valid"
    )
    assert metrics["accuracy"] == pytest.approx(history["best_valid_accuracy"])
    assert np.array(metrics["confusion"]).sum() == len(token_dataset.splits["valid"])
    assert 0 <= metrics["macro_f1"] <= 1


def test_model_refuses_other_classes(tmp_path, token_dataset, signal_dataset):
    model, _ = train_model(token_dataset, MODEL, TRAIN, seed=1, device=torch.device("cpu"), progress=False)
    save_model(model, token_dataset, MODEL, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="other classes"):
        load_model(tmp_path / "m.pt", signal_dataset, torch.device("cpu"))


def test_cli_runs_every_step_without_snakemake(tmp_path, capsys):
    spec = {"reader": "synthetic", "n": 40, "length": 60, "evidence": "end"}
    assert main(["ingest", "--name", "syn", "--spec", json.dumps(spec), "--out", str(tmp_path / "d")]) == 0
    arm = {"reduce": "truncate", "keep": "last", "length": 20}
    assert (
        main(
            [
                "reduce",
                "--data",
                str(tmp_path / "d"),
                "--arm-spec",
                json.dumps(arm),
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "r"),
                "--model",
                json.dumps(MODEL),
                "--train",
                json.dumps(TRAIN),
                "--seed",
                "0",
                "--no-progress",
                "--out-model",
                str(tmp_path / "m.pt"),
                "--out-history",
                str(tmp_path / "h.json"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(tmp_path / "r"),
                "--model",
                str(tmp_path / "m.pt"),
                "--history",
                str(tmp_path / "h.json"),
                "--dataset",
                "syn",
                "--arm",
                "last",
                "--seed",
                "0",
                "--out",
                str(tmp_path / "met.json"),
            ]
        )
        == 0
    )
    metrics = json.loads((tmp_path / "met.json").read_text())
    assert metrics["arm_params"] == arm and metrics["mean_steps"] == 20
    assert (
        main(
            [
                "aggregate",
                str(tmp_path / "met.json"),
                "--summary",
                str(tmp_path / "s.csv"),
                "--overview",
                str(tmp_path / "o.csv"),
                "--figure",
                str(tmp_path / "f.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert "syn,last,0,truncate" in (tmp_path / "s.csv").read_text()


def test_cli_bad_input_exits_with_a_clear_error(tmp_path, capsys):
    spec = {"reader": "ucr", "train_file": str(tmp_path / "missing.ts"), "test_file": str(tmp_path / "x.ts")}
    assert main(["ingest", "--name", "u", "--spec", json.dumps(spec), "--out", str(tmp_path / "d")]) == 2
    assert "missing.ts: file not found" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


ARMS = {
    "parallel": ({"reduce": "parallel", "pieces": 3}, {}, {}),
    "project": ({"reduce": "project", "ngram": 2, "buckets": 30, "window": 4, "dims": 3}, {}, {}),
    "bag": ({"reduce": "full"}, {"type": "bag"}, {}),
    "s4d": ({"reduce": "full"}, {"type": "s4d", "hidden": 8, "layers": 1, "state": 4}, {}),
    "segments": ({"reduce": "parallel", "pieces": 2}, {"type": "segments"}, {}),
    "chunk_encoder": ({"reduce": "full"}, {"type": "chunk_encoder", "chunk": 5}, {}),
    "seq2seq": ({"reduce": "full"}, {"type": "seq2seq"}, {"mode": "last_k", "k": 6}),
    "tbptt": ({"reduce": "full"}, {}, {"mode": "tbptt", "k1": 5, "k2": 8}),
    "last_k": ({"reduce": "full"}, {}, {"mode": "last_k", "k": 6}),
}


@pytest.mark.parametrize("arm", sorted(ARMS))
@pytest.mark.parametrize("kind", ["tokens", "signal"])
def test_every_arm_trains_and_evaluates(tmp_path, token_dataset, signal_dataset, arm, kind):
    from longseq.reducers import reduce_dataset

    reduction, model_cfg, train_cfg = ARMS[arm]
    ds = reduce_dataset(token_dataset if kind == "tokens" else signal_dataset, reduction)
    data.save(ds, tmp_path / "r")
    ds = data.load(tmp_path / "r")
    model_cfg = MODEL | model_cfg
    model, history = train_model(
        ds, model_cfg, TRAIN | train_cfg, seed=0, device=torch.device("cpu"), progress=False
    )
    save_model(model, ds, model_cfg, tmp_path / "m.pt")
    write_history(history, tmp_path / "h.json")
    metrics = evaluate(tmp_path / "m.pt", tmp_path / "h.json", ds, torch.device("cpu"))
    assert 0 <= metrics["accuracy"] <= 1 and metrics["train_mode"] == (train_cfg.get("mode", "bptt"))
    assert np.isfinite(history["evaluations"][-1]["train_loss"])


def test_truncated_modes_need_the_lstm(token_dataset):
    with pytest.raises(ValueError, match="needs an LSTM model that reads in chunks"):
        train_model(token_dataset, {"type": "bag"}, {"mode": "last_k"}, seed=0, progress=False)


def test_metrics_match_scikit_learn():
    from sklearn.metrics import confusion_matrix, f1_score

    from longseq.core.scores import confusion, macro_f1

    rng = np.random.default_rng(0)
    labels, predicted = rng.integers(0, 4, 50), rng.integers(0, 3, 50)  # class 3 never predicted
    counts = confusion(labels, predicted, 4)
    np.testing.assert_array_equal(counts, confusion_matrix(labels, predicted, labels=range(4)))
    assert macro_f1(counts) == pytest.approx(
        f1_score(labels, predicted, labels=range(4), average="macro", zero_division=0)
    )


# Adam moves every weight by about lr per update, whatever the gradient: at 3e37 (Adam's first
# step is lr / 0.1, so about the largest float32 allows) the head's 64 weights times saturated
# outputs overflow float32's 3.4e38 within two updates, on any CPU. (lr 1e30 sent the gate inputs
# to +-inf, which saturated gates absorb: the loss stayed finite on an AVX-512 machine until the
# evaluation's running sum overflowed, and only some CPUs' kernels turned it into NaN at once.)
ABSURD = {"lr": 3e37, "grad_clip": 1e30, "warmup": 1, "schedule": "constant", "eval_every": 10}
ABSURD["min_updates"] = ABSURD["eval_every"]
WIDE = dict(MODEL, hidden=64)


def test_a_diverging_run_stops_at_once_saying_what_to_try(token_dataset, tmp_path, capsys):
    """An absurd learning rate drives the logits to inf: the run stops at the first non-finite
    loss, through the CLI with exit code 2, a message naming the data and what to try, and no
    model or history written."""
    data.save(token_dataset, tmp_path / "reduced" / "syn" / "arm")
    out = tmp_path / "model"
    code = main(
        [
            "train", "--data", str(tmp_path / "reduced" / "syn" / "arm"), "--model", json.dumps(WIDE),
            "--train", json.dumps(dict(TRAIN, **ABSURD)), "--no-progress",
            "--out-model", str(out / "model.pt"), "--out-history", str(out / "history.json"),
        ]
    )  # fmt: skip
    message = capsys.readouterr().err
    assert code == 2, message
    assert (
        "reduced/syn/arm: training diverged: the loss is" in message
        and "Try a lower lr (now 3e+37)" in message
    )
    update = int(re.search(r"at update (\d+) ", message).group(1))
    assert update < ABSURD["eval_every"], message  # at once, not at the next evaluation
    assert not out.exists()


def test_a_loss_that_explodes_but_stays_finite_stops_the_run_on_any_cpu(token_dataset, monkeypatch):
    """Some CPUs keep a blown-up LSTM's loss finite (about 1e30, never NaN): the run must stop
    all the same. Provoked without any overflow: the head's weights times 1e6 give logits of
    about 1e4 and a loss in the thousands, finite in float32 on every CPU, above the bound of
    100 x ln(2) = 69; a learning rate of 1e-9 cannot bring it down."""
    from longseq.steps import train

    built = train.build_model

    def loud_head(*args, **kwargs):
        model = built(*args, **kwargs)
        with torch.no_grad():
            model.head.weight.mul_(1e6)
        return model

    monkeypatch.setattr(train, "build_model", loud_head)
    settings = dict(TRAIN, lr=1e-9, max_updates=40, eval_every=20, min_updates=20)
    with pytest.raises(
        data.TrainingDiverged, match=r"the loss is [0-9.e+]+, above 69.3 \(100 x a uniform"
    ) as err:
        train_model(token_dataset, WIDE, settings, seed=0, progress=False, where="loud")
    loss = float(re.search(r"the loss is ([0-9.e+]+),", str(err.value)).group(1))
    assert np.isfinite(loss) and loss > 100 * np.log(2)
    assert int(re.search(r"at update (\d+) ", str(err.value)).group(1)) <= 1  # the first batch


def test_a_diverging_search_trial_is_recorded_as_failed_and_the_search_goes_on(
    token_dataset, tmp_path, capsys
):
    """`--trial`: a trial that diverges writes a history saying so and exits 0; the choice is
    made among the others, and the trial's failure is in the record."""
    from longseq.steps import choose, tuning

    data.save(token_dataset, tmp_path / "arm")
    histories = []
    for number, lr in enumerate([0.003, ABSURD["lr"]]):
        histories.append(tmp_path / f"trial{number}.json")
        code = main(
            [
                "train", "--data", str(tmp_path / "arm"), "--model", json.dumps(WIDE),
                "--train", json.dumps({**TRAIN, **ABSURD, "lr": lr}), "--no-progress", "--trial",
                "--out-history", str(histories[-1]),
            ]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
    assert "training diverged" in json.loads(histories[1].read_text())["failed"]
    space = tuning.distributions({"train": {"lr": [0.003, ABSURD["lr"]]}})
    trials = [{"train.lr": 0.003}, {"train.lr": ABSURD["lr"]}]
    chosen = choose.choose(space, trials, histories, tmp_path / "trials.csv", tmp_path / "chosen.json")
    assert chosen["trial"] == 0 and chosen["failed"] == [1]
    assert list(pd.read_csv(tmp_path / "trials.csv")["state"]) == ["COMPLETE", "FAIL"]
