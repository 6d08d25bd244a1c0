"""What is wrong with a UCR/UEA `.ts` file, in the file's own terms.

sktime's parser fails on a malformed file with its own internals ("'NoneType' object cannot be
interpreted as an integer" for a file cut after its header). When it fails, the file is read
here line by line against the layout the format defines (header lines `@key value`, a line
`@data`, then one series per line: each dimension's comma-separated values, the dimensions
separated by ':', the class label last), and the first departure is named: its line, what it
holds, what the header says it should. Only a failed file is read twice; a good one is not.
"""

from __future__ import annotations

from pathlib import Path

MISSING = {"?", "nan", "NaN"}


def layout_problem(path: Path) -> str:
    """The first line of `path` that breaks the .ts layout, as a sentence with its fix."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte at offset {exc.start}); a .ts file is plain text"
    header, start = _header(lines)
    if isinstance(header, str):
        return header
    if start is None:
        return (
            f"the header ended without a line '@data' (the file has {len(lines)} lines); the series follow "
            "that line: is the file cut short?"
        )
    series = [(n, line.strip()) for n, line in enumerate(lines[start:], start + 1) if _content(line)]
    if not series:
        return f"no series after '@data' (line {start}); is the file cut short?"
    labels = header.get("classlabel", "").split()
    if not labels or labels[0].lower() != "true":
        return "the header has no '@classLabel true <classes>'; the study needs a class label on every series"
    for number, line in series:
        problem = _series_problem(line, header, labels[1:])
        if problem:
            return f"line {number}: {problem}"
    return (
        "its layout looks right, yet sktime cannot parse it; compare it with a file from the UCR/UEA archive"
    )


def _content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _header(lines: list[str]) -> tuple[dict | str, int | None]:
    """The header's keys (lower case) and the number of the line '@data', or a problem."""
    header = {}
    for number, line in enumerate(lines, 1):
        if not _content(line):
            continue
        text = line.strip()
        if not text.startswith("@"):
            return (
                f"line {number}: {text[:40]!r} comes before '@data' but is not a header line ('@key value')",
                None,
            )
        key, _, value = text[1:].partition(" ")
        if key.lower() == "data":
            return header, number
        header[key.lower()] = value.strip()
    return header, None


def _series_problem(line: str, header: dict, classes: list[str]) -> str | None:
    *dimensions, label = line.split(":")
    expected = header.get("dimensions")
    if expected is None and header.get("univariate", "").lower() == "true":
        expected = "1"
    if expected is not None and expected.isdigit() and len(dimensions) != int(expected):
        return (
            f"{_count(len(dimensions), 'dimension')} (fields separated by ':' before the label) where the "
            f"header says {expected}; each series line is its dimensions, then its class label"
        )
    if classes and label.strip() not in classes:
        return f"class label {label.strip()!r} is not among the header's @classLabel {' '.join(classes)}"
    if header.get("timestamps", "").lower() == "true":
        return None  # values are (time, value) pairs: left to the parser
    for d, field in enumerate(dimensions, 1):
        for v, value in enumerate(field.split(","), 1):
            if value.strip() not in MISSING and not is_number(value):
                return f"dimension {d}, value {v}: {value.strip()[:20]!r} is not a number (a missing value is '?')"
    return None


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
