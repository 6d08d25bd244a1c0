"""CSV, TSV or Parquet table (pandas; pyarrow for Parquet), also inside a zip/wheel: a text column and a label column.

Rows can be selected by column values and exact duplicate texts dropped (the first is kept),
before anything is split. Words become tokens here; their vocabulary is counted on the train split only, after splitting (see `ingest`). With
`units: bytes` each record's UTF-8 bytes are its tokens instead (the Long Range Arena's Text
task): a fixed vocabulary of 256 bytes that nothing is fitted to, cut at `max_bytes`."""

from __future__ import annotations

import io
import re
from collections import Counter

import numpy as np

from ..core.data import UNK_ID, DataError, some_rows
from ._archives import read_source_bytes
from ._options import UNLABELED
from ._records import Records, class_order

KINDS = ["tokens"]
REQUIRED = ["path"]
OPTIONS = {
    "format": {"enum": ["csv", "tsv", "parquet"]},
    "text_column": {"type": "string"},
    "label_column": {"type": "string"},
    "class_names": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    "select": {"type": "object", "description": "keep rows whose columns equal these values"},
    "dedupe": {"type": "boolean"},
    "unlabeled": UNLABELED,
    "encoding": {"type": "string", "description": "the file's text encoding (default utf-8), e.g. latin-1"},
    "max_classes": {"type": "integer", "minimum": 2},
    "max_vocab": {"type": "integer", "minimum": 3},
    "min_count": {"type": "integer", "minimum": 1},
    "units": {
        "enum": ["words", "bytes"],
        "description": "words (default; vocabulary from train) or each record's UTF-8 bytes (fixed vocabulary of 256)",
    },
    "max_bytes": {
        "type": "integer",
        "minimum": 1,
        "description": "units bytes: cut each record after this many bytes",
    },
}

TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")
BREAK_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def tokenize(text: str) -> list[str]:
    """Lower-case words (with their apostrophes) plus ! and ?, after dropping HTML line breaks."""
    return TOKEN_RE.findall(BREAK_RE.sub(" ", text).lower())


def build_vocab(token_lists, max_size: int, min_count: int) -> list[str]:
    """Most frequent tokens first, ties alphabetical; ids 0/1 are padding and unknown."""
    counts = Counter(tok for toks in token_lists for tok in toks)
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return ["<pad>", "<unk>"] + kept[: max(0, max_size - 2)]


BYTE_OFFSET = 2  # byte b is token id b + 2: ids 0 and 1 stay padding and unknown


def byte_vocab() -> list[str]:
    """The 256 bytes as readable names (printable ASCII as itself, else its hex), after <pad>, <unk>."""
    return ["<pad>", "<unk>"] + [chr(b) if 32 < b < 127 else f"0x{b:02x}" for b in range(256)]


def byte_tokens(text: str, max_bytes: int | None) -> np.ndarray:
    """A text's UTF-8 bytes as token ids, cut after `max_bytes` (a character may be split)."""
    raw = text.encode("utf-8")[:max_bytes]
    return np.frombuffer(raw, dtype=np.uint8).astype(np.int32) + BYTE_OFFSET


def encode(token_lists, vocab: list[str]) -> list[np.ndarray]:
    """Token strings -> int32 ids of `vocab`; a token outside it is <unk>."""
    ids = {token: i for i, token in enumerate(vocab)}
    return [
        np.fromiter((ids.get(t, UNK_ID) for t in toks), dtype=np.int32, count=len(toks))
        for toks in token_lists
    ]


def _table_format(spec: dict, where: str) -> str:
    if spec.get("format"):
        return spec["format"]
    name = spec.get("member") or spec["path"]
    for suffix, fmt in FORMATS.items():
        if name.lower().endswith(suffix):
            return fmt
    raise DataError(
        f"{where}: cannot tell the table format from the name; set the option format: csv, tsv or parquet"
    )


def read_table(raw: bytes, fmt: str, where: str, encoding: str = "utf-8"):
    import pandas as pd

    try:
        if fmt == "parquet":
            return pd.read_parquet(io.BytesIO(raw))
        return pd.read_csv(io.BytesIO(raw), sep="\t" if fmt == "tsv" else ",", encoding=encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{where}: not {encoding} text (byte {raw[exc.start]:#x} at offset {exc.start}); save the "
            "file as UTF-8, or name its encoding with the sheet option encoding: (e.g. latin-1)"
        ) from exc
    except LookupError as exc:
        raise DataError(f"{where}: unknown encoding {encoding!r}; use e.g. utf-8 or latin-1") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        raise DataError(f"{where}: cannot parse as {fmt}: {table_problem(exc, fmt)}") from exc


def table_problem(exc: Exception, fmt: str = "csv") -> str:
    """pandas' parse failure in the file's terms (its line), with the fix; not its C tokenizer's words."""
    text = str(exc)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        expected, line, saw = fields.groups()
        return (
            f"line {line} has {saw} fields where the header has {expected}; quote a field that holds the "
            "separator, or remove the extra ones"
        )
    quote = re.search(r"EOF inside string starting at row (\d+)", text)
    if quote:
        return f"a quote opened on line {int(quote.group(1)) + 1} is never closed; close it or remove it"
    if "No columns to parse" in text:
        return "no header line (the file is empty or blank); the first line names the columns"
    if fmt == "parquet":
        return "not a Parquet file, or one cut short (its footer is missing); write it again"
    return "check the file, or the format option (csv, tsv or parquet)"


def _data_rows(rows) -> str:
    """Rows counted from 1 below the header, as a spreadsheet shows them."""
    return some_rows(rows, "data row", "data rows")


def _class_ids(values, class_names: list[str] | None, where: str, max_classes: int):
    """Label values -> (class ids, class names). Labels are class names, or integer ids into
    `class_names`; anything else (fractions, missing values) is an error naming the rows."""
    rows = values.index.to_numpy() + 1  # data rows counted from 1, as in a spreadsheet
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataError(f"{where}: no label in {_data_rows(rows[missing])}; fill them in or remove them")
    fraction = np.array([isinstance(v, float) and not v.is_integer() for v in values])
    if fraction.any():
        first = float(values.iloc[int(np.flatnonzero(fraction)[0])])
        raise DataError(
            f"{where}: labels that are fractions ({first!r} first) in {_data_rows(rows[fraction])}; "
            "labels must be class names or integer class ids (is label_column a score?)"
        )
    as_text = [str(int(v)) if isinstance(v, float) else str(v) for v in values]
    if class_names:
        if all(t.lstrip("-").isdigit() for t in as_text):
            ids = np.array([int(t) for t in as_text])
            bad = (ids < 0) | (ids >= len(class_names))
            if bad.any():
                raise DataError(
                    f"{where}: labels outside class ids 0..{len(class_names) - 1} of class_names "
                    f"{class_names} ({ids[bad][0]} first) in {_data_rows(rows[bad])}; "
                    "fix the rows or the class_names option"
                )
            return ids, list(class_names)
        index = {c: i for i, c in enumerate(class_names)}
        bad = np.array([t not in index for t in as_text])
        if bad.any():
            unknown = sorted({t for t, b in zip(as_text, bad) if b})
            raise DataError(
                f"{where}: labels {unknown[:5]} are not among class_names {class_names}, in "
                f"{_data_rows(rows[bad])}; fix the rows or the class_names option"
            )
        return np.array([index[t] for t in as_text]), list(class_names)
    classes = class_order(as_text)
    if len(classes) > max_classes:
        raise DataError(
            f"{where}: the label column has {len(classes)} distinct values; is label_column really a "
            f"class? (raise max_classes above {max_classes} if it is)"
        )
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[t] for t in as_text]), classes


def read(spec: dict) -> Records:
    """The table's documents (words or bytes) and labels."""
    raw, where = read_source_bytes(spec)
    table = read_table(raw, _table_format(spec, where), where, spec.get("encoding", "utf-8"))
    text_col, label_col = spec.get("text_column", "text"), spec.get("label_column", "label")
    if spec.get("unlabeled"):  # new records to label (longseq predict): no label column needed
        table = table.assign(**{label_col: "unlabeled"})
    for option, column in (("text_column", text_col), ("label_column", label_col)):
        if column not in table.columns:
            raise DataError(
                f"{where}: no {column!r} column (it has {list(table.columns)}); set the sheet option {option}"
            )
    for column, value in (spec.get("select") or {}).items():
        if column not in table.columns:
            raise DataError(
                f"{where}: no {column!r} column to select {value!r} rows (it has {list(table.columns)})"
            )
        table = table[table[column] == value]
    as_bytes, max_bytes = spec.get("units", "words") == "bytes", spec.get("max_bytes")
    split_up = (lambda t: byte_tokens(t, max_bytes)) if as_bytes else tokenize
    tokens = {
        row: split_up(value) if isinstance(value, str) else [] for row, value in table[text_col].items()
    }
    empty = [row for row, words in tokens.items() if not len(words)]
    if empty and not spec.get("drop_empty"):
        raise DataError(
            f"{where}: no {'text' if as_bytes else 'words'} in {text_col!r} in "
            f"{_data_rows([row + 1 for row in empty])}; "
            "fill them in or remove them, or set the sheet option drop_empty: true to drop them"
        )
    table = table.drop(index=empty)
    if spec.get("dedupe", True):
        table = table.drop_duplicates(subset=text_col, keep="first")
    if table.empty:
        raise DataError(f"{where}: no rows left to read (empty table, or the select option matched none)")
    labels, classes = _class_ids(
        table[label_col], spec.get("class_names"), where, spec.get("max_classes", 100)
    )
    documents = [tokens[row] for row in table.index]
    meta = {"source": spec.get("describe") or f"text table {where}", "synthetic": False}
    if empty:
        meta["dropped_empty"] = len(empty)
    if spec.get("unlabeled"):
        meta["unlabeled"] = True
    if as_bytes:
        meta.update(vocab=byte_vocab(), vocab_size=BYTE_OFFSET + 256, units="bytes")
        if max_bytes:  # how many were cut, measured on the uncut text (LRA cuts at 4,096)
            full = table[text_col].map(lambda t: len(t.encode("utf-8")))
            meta.update(max_bytes=max_bytes, cut_records=int((full > max_bytes).sum()))
    return Records("tokens", documents, labels, classes, meta)
