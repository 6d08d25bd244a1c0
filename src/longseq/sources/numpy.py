"""`.npz` with `x` ([N, T] int tokens or [N, T(, C)] float signals), `y`, optional `lengths`, `x_test`/`y_test`.

`lengths` gives the valid steps per row (the rest is padding); `x_test`/`y_test`/`lengths_test`
a given test part. Token ids move up by 2, since 0 and 1 mean padding and unknown here."""

from __future__ import annotations

import numpy as np

from ..core.data import DataError, some_rows
from ._archives import check_sha256
from ._options import UNLABELED
from ._records import Records, class_order

KINDS = ["tokens", "signal"]
REQUIRED = ["path"]
OPTIONS = {"unlabeled": UNLABELED}


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


def read(spec: dict) -> Records:
    """The file's parts, a given test part marked."""

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
