"""`longseq predict`: new records go through the training data's steps, with everything fitted
taken from the training data; on the test split it gives exactly what evaluation reported."""

import csv
import json

import numpy as np
import pytest
import torch

from longseq import cli, sources
from longseq.core import data
from longseq.core.data import Dataset
from longseq.reducers import draw, draw_split, reduce_dataset
from longseq.steps.batches import average_views, predict_proba
from longseq.steps.evaluate import evaluate
from longseq.steps.saved import load_model, save_model, write_history
from longseq.steps.train import train_model

CPU = torch.device("cpu")
QUICK = {"max_updates": 12, "eval_every": 6, "min_updates": 6, "patience": 1, "warmup": 2, "batch_size": 16}
MODEL = {"hidden": 8, "embedding": 4}
TOKENS = {
    "full": ({"reduce": "full"}, {}, {}),
    "truncate": ({"reduce": "truncate", "keep": "last", "length": 30}, {}, {}),
    "summarize": ({"reduce": "summarize", "drop_top": 3}, {}, {}),
    "sample": (
        {"reduce": "sample", "mode": "window", "length": 25, "train_copies": 2, "eval_views": 3},
        {},
        {},
    ),
    "parallel_segments": ({"reduce": "parallel", "pieces": 2}, {"type": "segments"}, {}),
    "project": ({"reduce": "project", "ngram": 3, "buckets": 64}, {}, {}),
    "bag": ({"reduce": "full"}, {"type": "bag"}, {}),
    "tbptt": ({"reduce": "full"}, {}, {"mode": "tbptt", "k1": 20, "k2": 20}),
    "seq2seq_last_k": ({"reduce": "full"}, {"type": "seq2seq"}, {"mode": "last_k", "k": 20}),
    "chunk_encoder": ({"reduce": "full"}, {"type": "chunk_encoder", "chunk": 10}, {}),
}
SIGNALS = {
    "summarize": ({"reduce": "summarize", "window": 5, "stats": ["mean", "max"]}, {}, {}),
    "project": ({"reduce": "project", "window": 4, "dims": 3}, {}, {}),
    "sample": ({"reduce": "sample", "mode": "timesteps", "length": 20, "eval_views": 2}, {}, {}),
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ingested")
    tokens = {"reader": "synthetic", "n": 60, "length": 80, "noise_vocab": 12}
    signals = {"reader": "synthetic", "kind": "signal", "n": 60, "length": 60, "channels": 2}
    data.save(sources.ingest(tokens, "t"), folder / "tokens")
    data.save(sources.ingest(signals, "s"), folder / "signal")
    return folder


def trained(tmp_path, folder, arm, seed=3):
    reduction, model_cfg, train_cfg = arm
    reduced = reduce_dataset(data.load(folder), reduction)
    data.save(reduced, tmp_path / "r")
    reduced = data.load(tmp_path / "r")
    model, history = train_model(reduced, MODEL | model_cfg, QUICK | train_cfg, seed, CPU, False)
    save_model(model, draw(reduced, seed), MODEL | model_cfg, tmp_path / "m.pt", seed=seed)
    write_history(history, tmp_path / "h.json")
    return reduced


@pytest.mark.parametrize("kind, name", [("tokens", a) for a in TOKENS] + [("signal", a) for a in SIGNALS])
def test_predicting_the_test_split_gives_what_evaluation_reported(tmp_path, ingested, kind, name):
    arm = (TOKENS if kind == "tokens" else SIGNALS)[name]
    reduced = trained(tmp_path, ingested / kind, arm)
    metrics = evaluate(tmp_path / "m.pt", tmp_path / "h.json", reduced, CPU)
    test = draw_split(reduced, "test", 3)
    model = load_model(
        tmp_path / "m.pt", Dataset(reduced.kind, reduced.classes, {"test": test}, reduced.meta), CPU
    )
    expected, _ = average_views(predict_proba(model, test), test)

    out = tmp_path / "p.csv"
    code = cli.main(
        ["predict", "--model", str(tmp_path / "m.pt"), "--data", str(ingested / kind), "--out", str(out)]
    )
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    classes = reduced.classes
    probs = np.array([[float(r[f"p_{c}"]) for c in classes] for r in rows])
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert [r["predicted"] for r in rows] == [classes[i] for i in metrics["predicted"]]
    assert [r["label"] for r in rows] == [classes[i] for i in metrics["labels"]]
    accuracy = np.mean([r["predicted"] == r["label"] for r in rows])
    assert accuracy == pytest.approx(metrics["accuracy"])


def test_new_text_with_unseen_words_reads_them_as_unknown(tmp_path):
    """A model trained on a text table labels a new table: words it never saw become <unk>,
    labels are optional... here given, and named in the output."""
    import pandas as pd

    rng = np.random.default_rng(0)
    words = {"pos": ["great", "superb", "lovely"], "neg": ["awful", "dull", "boring"]}
    labels = ["pos", "neg"] * 100
    texts = [
        " ".join(rng.choice(words[y], 3).tolist() + [f"once{i}"] + ["film"] * 3) for i, y in enumerate(labels)
    ]
    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "train.csv", index=False)
    ingested = sources.ingest({"reader": "text", "path": str(tmp_path / "train.csv")}, "rev")
    data.save(ingested, tmp_path / "ingested")
    trained(
        tmp_path,
        tmp_path / "ingested",
        ({"reduce": "full"}, {"type": "bag"}, {"max_updates": 80, "min_updates": 80, "lr": 0.05}),
    )
    pd.DataFrame(
        {"text": ["great superb lovely zzzunseen", "dull awful boring qqqnever"], "label": ["pos", "neg"]}
    ).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "p.csv"
    spec = {"reader": "text", "path": str(tmp_path / "new.csv")}
    assert (
        cli.main(
            ["predict", "--model", str(tmp_path / "m.pt"), "--spec", json.dumps(spec), "--out", str(out)]
        )
        == 0
    )
    rows = list(csv.DictReader(out.open()))
    assert [r["record"] for r in rows] == ["0", "1"] and [r["label"] for r in rows] == ["pos", "neg"]
    assert [r["predicted"] for r in rows] == ["pos", "neg"]
    assert all(abs(float(r["p_neg"]) + float(r["p_pos"]) - 1) < 1e-5 for r in rows)


def test_unlabeled_records_and_the_verdicts_recommended_arm(tmp_path, ingested):
    """A file without labels is labelled (no label column in the output); `--recommended`
    takes the arm the study's verdict recommends for the data set."""
    import pandas as pd

    results = tmp_path / "results"
    run = results / "models" / "t" / "summarize" / "seed0"
    run.mkdir(parents=True)
    trained(run, ingested / "tokens", TOKENS["summarize"])
    (run / "m.pt").rename(run / "model.pt")
    (results / "verdict").mkdir()
    pd.DataFrame({"dataset": ["t", "t"], "arm": ["full", "summarize"], "recommended": [False, True]}).to_csv(
        results / "verdict" / "arms.csv", index=False
    )
    vocab = data.load(ingested / "tokens").meta["vocab"]
    pd.DataFrame({"text": [" ".join(vocab[2:9]), " ".join(vocab[5:12])]}).to_csv(
        tmp_path / "new.csv", index=False
    )
    spec = {"reader": "text", "path": str(tmp_path / "new.csv"), "unlabeled": True}
    out = tmp_path / "p.csv"
    argv = [
        "predict",
        "--recommended",
        "t",
        "--results",
        str(results),
        "--spec",
        json.dumps(spec),
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0
    rows = list(csv.DictReader(out.open()))
    assert (
        len(rows) == 2
        and "label" not in rows[0]
        and {r["predicted"] for r in rows} <= set(data.load(ingested / "tokens").classes)
    )


def test_unlabeled_signals_of_other_lengths_are_labelled(tmp_path, ingested):
    """NumPy signals without y, three to twenty times longer or shorter than the training
    records: each is reduced as training records were and gets a probability per class."""
    trained(tmp_path, ingested / "signal", SIGNALS["summarize"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 1200, 2)).astype(np.float32)
    np.savez(tmp_path / "new.npz", x=x, lengths=np.array([20, 600, 1200]))
    spec = {"reader": "numpy", "path": str(tmp_path / "new.npz"), "unlabeled": True}
    out = tmp_path / "p.csv"
    assert (
        cli.main(
            ["predict", "--model", str(tmp_path / "m.pt"), "--spec", json.dumps(spec), "--out", str(out)]
        )
        == 0
    )
    rows = list(csv.DictReader(out.open()))
    assert [r["record"] for r in rows] == ["0", "1", "2"] and "label" not in rows[0]
    assert all(abs(sum(float(r[k]) for k in r if k.startswith("p_")) - 1) < 1e-5 for r in rows)


@pytest.mark.parametrize(
    "make_new, message",
    [
        (
            lambda d: {"reader": "synthetic", "kind": "signal", "n": 20, "length": 30, "channels": 1},
            r"records with 1 channels, but the model was trained on 2 .*; give every channel, in that order",
        ),
        (
            lambda d: {"reader": "synthetic", "n": 20, "length": 30},
            r"tokens records, but the model reads signal; give records of its kind",
        ),
    ],
)
def test_new_records_of_the_wrong_shape_are_refused_and_nothing_is_written(
    tmp_path, ingested, capsys, make_new, message
):
    import re

    trained(tmp_path, ingested / "signal", SIGNALS["summarize"])
    out = tmp_path / "p.csv"
    code = cli.main(
        [
            "predict",
            "--model",
            str(tmp_path / "m.pt"),
            "--spec",
            json.dumps(make_new(tmp_path)),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err), err
    assert not out.exists()
