"""The references (longseq.references): they learn what they should, fit on train and valid,
save their state as arrays, and read the test split once, after the fit is saved."""

import json

import numpy as np
import pytest

from longseq import references
from longseq.core import data
from longseq.core.data import Dataset, Split


def _signals(rng, n, lengths):
    """Three classes of noisy sine waves, by frequency; unequal lengths."""
    seqs, labels = [], rng.integers(0, 3, size=n)
    for label in labels:
        steps = int(rng.integers(*lengths))
        t = np.arange(steps)
        wave = np.sin(2 * np.pi * (label + 1) * t / 40 + rng.uniform(0, 6))
        seqs.append((wave + 0.5 * rng.normal(size=steps))[:, None].astype(np.float32))
    return Split.from_sequences(seqs, labels)


def _tokens(rng, n):
    """Two classes told apart only by word order: class 0 holds the bigram '5 6', class 1 '6 5';
    both hold the same words, so a bag of unigrams cannot tell them apart."""
    seqs, labels = [], rng.integers(0, 2, size=n)
    for label in labels:
        words = list(rng.integers(7, 40, size=int(rng.integers(30, 60))))
        at = int(rng.integers(0, len(words)))
        words[at:at] = [5, 6] if label == 0 else [6, 5]
        seqs.append(np.asarray(words, dtype=np.int32))
    return Split.from_sequences(seqs, labels)


@pytest.fixture()
def folders(tmp_path):
    rng = np.random.default_rng(0)
    signal = Dataset(
        "signal",
        ["a", "b", "c"],
        {s: _signals(rng, n, (90, 130)) for s, n in (("train", 60), ("valid", 30), ("test", 60))},
        {},
    )
    tokens = Dataset(
        "tokens",
        ["x", "y"],
        {s: _tokens(rng, n) for s, n in (("train", 150), ("valid", 60), ("test", 100))},
        {"vocab_size": 40},
    )
    data.save(signal, tmp_path / "signal")
    data.save(tokens, tmp_path / "tokens")
    return tmp_path


@pytest.mark.parametrize("kind, method", [("signal", "minirocket"), ("tokens", "tfidf")])
def test_a_reference_learns_reads_test_last_and_saves_arrays_only(folders, monkeypatch, kind, method):
    state = folders / f"{kind}.npz"
    opened = []
    load = references.load

    def watched(path, *args, splits=data.SPLITS, **kwargs):
        opened.append((tuple(splits), state.exists()))
        return load(path, *args, splits=splits, **kwargs)

    monkeypatch.setattr(references, "load", watched)
    metrics = references.run(folders / kind, method, seed=0, threads=1, state_path=state)
    # test is read once, after the fit was saved; train and valid before it, test never with them
    assert [s for s, _ in opened] == [("train", "valid"), ("test",)]
    assert opened[1][1] and not opened[0][1]
    # it learns: far above the majority class (order matters for the tokens: bigrams)
    assert metrics["accuracy"] >= 0.9 > metrics["majority_baseline"] + 0.2
    # its state is arrays (no pickle) and predicts what the run scored
    with np.load(state, allow_pickle=False) as saved:
        assert all(saved[k].dtype != object for k in saved.files)
    probs, flops = references.probabilities(
        references.load_state(state), data.load(folders / kind).splits["test"]
    )
    assert probs.argmax(1).tolist() == metrics["predicted"] and (flops > 0).all()
    np.testing.assert_allclose(probs.sum(1), 1.0)
    assert json.loads(json.dumps(metrics))["labels"] == metrics["labels"]
    assert metrics["peak_memory_mb"] > 0 and metrics["train_seconds"] > 0  # its cost, like an arm's


def test_minirocket_resamples_unequal_lengths_and_its_seed_draws_its_kernels(folders):
    a = references.run(folders / "signal", "minirocket", 0, 1, folders / "a.npz")
    references.run(folders / "signal", "minirocket", 1, 1, folders / "b.npz")
    assert a["chosen"]["resampled_records"] > 0 and a["chosen"]["length"] == 129
    assert not np.array_equal(
        references.load_state(folders / "a.npz")["parameter2"],
        references.load_state(folders / "b.npz")["parameter2"],
    )


def test_tfidf_chooses_its_strength_on_valid(folders):
    metrics = references.run(folders / "tokens", "tfidf", 0, 1, folders / "t.npz")
    scores = metrics["chosen"]["valid_accuracy"]
    best = max(scores.values())
    assert scores[str(metrics["chosen"]["C"])] == best
    assert metrics["chosen"]["C"] == min(
        float(c) for c, s in scores.items() if s == best
    )  # ties: stronger penalty


def test_a_reference_refuses_the_other_kind(folders):
    with pytest.raises(data.DataError, match="reads signal data sets"):
        references.run(folders / "tokens", "minirocket", 0, 1, folders / "x.npz")


@pytest.mark.parametrize("kind, method", [("signal", "minirocket"), ("tokens", "tfidf")])
def test_longseq_predict_uses_a_references_state(folders, kind, method):
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    metrics = references.run(folders / kind, method, 0, 1, folders / "state.npz")
    longseq = Path(sys.executable).parent / "longseq"
    subprocess.run(
        [
            str(longseq),
            "predict",
            "--model",
            str(folders / "state.npz"),
            "--data",
            str(folders / kind),
            "--split",
            "test",
            "--out",
            str(folders / "p.csv"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = pd.read_csv(folders / "p.csv")
    classes = metrics["classes"]
    assert [classes.index(c) for c in rows["predicted"]] == metrics["predicted"]
    assert [classes.index(c) for c in rows["label"]] == metrics["labels"]


def test_tfidf_on_bytes_counts_character_ngrams_within_words(tmp_path):
    """Reviews as bytes: 'superb' and 'awful' tell the class; as byte ids joined into words
    ('117 112 ...') the 1-2-grams of single bytes could not spell them."""
    from longseq.sources.text import BYTE_OFFSET

    rng = np.random.default_rng(1)
    filler = ["the", "film", "was", "a", "and", "plot", "actor", "scene"]

    def split(n):
        labels = rng.integers(0, 2, size=n)
        texts = [" ".join([*rng.choice(filler, 20), "superb" if y else "awful"]) for y in labels]
        return Split.from_sequences(
            [np.frombuffer(t.encode(), np.uint8).astype(np.int32) + BYTE_OFFSET for t in texts], labels
        )

    ds = Dataset(
        "tokens",
        ["neg", "pos"],
        {s: split(n) for s, n in (("train", 80), ("valid", 40), ("test", 60))},
        {"vocab_size": 258, "units": "bytes"},
    )
    data.save(ds, tmp_path / "bytes")
    metrics = references.run(tmp_path / "bytes", "tfidf", seed=0, threads=1, state_path=tmp_path / "s.npz")
    assert metrics["accuracy"] == 1.0
    terms = set(references.load_state(tmp_path / "s.npz")["terms"].tolist())
    assert {" supe", "perb ", " awfu", "awful"} <= terms  # character 5-grams, padded at word bounds
