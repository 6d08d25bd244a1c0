"""UCR/UEA `.ts` or `.arff` (sktime's loaders), or the UCR 2018 archive's `.tsv` (label first, NaN padding).

Its own test file is the 'given' test part. The files come bundled with sktime (`bundled`), as
local paths, or as members of an archive (`path` with `train_member` and `test_member`, e.g. a
wheel fetched but never installed). Values keep their physical units; the models normalise each
channel with statistics of the train split only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.data import DataError, MissingFile, some_rows
from ._archives import check_sha256, read_source_bytes
from ._options import SHA256
from ._records import Records, class_order
from ._ts_layout import is_number, layout_problem

KINDS = ["signal"]
OPTIONS = {
    "bundled": {"type": "string", "description": "a data set bundled with sktime (e.g. ACSF1)"},
    "train_file": {"type": "string"},
    "test_file": {"type": "string"},
    "train_member": {"type": "string", "description": "the train .ts inside the archive at path"},
    "test_member": {"type": "string", "description": "the test .ts inside the archive at path"},
    "train_sha256": SHA256,
    "test_sha256": SHA256,
}
# one of three ways to name the files
ANY_OF = [["bundled"], ["train_file", "test_file"], ["path", "train_member", "test_member"]]


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
    raw, where = read_source_bytes(spec, f"{part}_member", f"{part}_sha256")
    target = folder / Path(spec[f"{part}_member"]).name
    target.write_bytes(raw)
    return target, where


def _read_ts_as(path: Path, where: str):
    try:
        return read_ts(path)
    except DataError as exc:
        raise DataError(str(exc).replace(str(path), where)) from None


def read(spec: dict) -> Records:
    """The train and test files as one set of records, the test file's marked 'given'."""
    import tempfile

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
