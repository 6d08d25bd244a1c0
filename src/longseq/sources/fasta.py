"""One labelled sequence per record (FASTA, read by Biopython).

The label comes from the header (`label_pattern`, default `label=<class>`) or from a label sheet
(columns id, label); an optional `group_pattern` keeps related records in one split."""

from __future__ import annotations

import re

import numpy as np

from ..core.data import DataError, MissingFile, some_rows
from ._archives import read_source_bytes
from ._dna import base_codes, dna_vocab, non_base, parse, token_ids
from ._options import KMER, KMER_STRIDE
from ._records import Records
from .text import table_problem

KINDS = ["tokens"]
REQUIRED = ["path"]
OPTIONS = {
    "labels": {
        "type": "string",
        "description": "label sheet (columns id, label); else labels come from headers",
    },
    "label_pattern": {"type": "string", "description": "regex with one group, searched in each header"},
    "group_pattern": {
        "type": "string",
        "description": "regex with one group: records of one group share a split",
    },
    "kmer": KMER,
    "kmer_stride": KMER_STRIDE,
}


def _label_sheet(path: str) -> dict[str, str]:
    import pandas as pd

    try:
        table = pd.read_csv(path, sep=None, engine="python", dtype=str)
    except FileNotFoundError:
        raise MissingFile(path, "give the label sheet's path (columns id and label)") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(
            f"{path}: cannot read the label sheet: {table_problem(exc)}; it needs columns id and label"
        ) from exc
    for column in ("id", "label"):
        if column not in table.columns:
            raise DataError(
                f"{path}: the label sheet has no {column!r} column (it has {list(table.columns)})"
            )
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        ids = [repr(i) for i in dict.fromkeys(duplicated)]
        raise DataError(
            f"{path}: {some_rows(ids, 'id', 'ids')} more than once in the label sheet; "
            "give each record one label"
        )
    return dict(zip(table["id"], table["label"]))


def _refuse_records(where: str, records, faults: list, what: str, fix: str) -> None:
    """One error for every FASTA record with a fault (a truthy entry; a string is shown):
    how many, and the first few by number and id."""
    named = [
        f"{i + 1} ({record.id}{': ' + fault if isinstance(fault, str) else ''})"
        for i, (record, fault) in enumerate(zip(records, faults))
        if fault
    ]
    if named:
        raise DataError(f"{where}: {what} in {some_rows(named, 'record', 'records')}; {fix}")


def _header_label(pattern: re.Pattern, record) -> str | None:
    match = pattern.search(record.description)
    return match.group(1) if match else None


def _header_group(pattern: re.Pattern, record) -> str:
    match = pattern.search(record.description)
    return match.group(1) if match else record.id


def _base_tokens(records, where: str, k: int, kmer_stride) -> list[np.ndarray]:
    """Each record's token ids, refusing records with characters that are not bases; one pass
    reads each record's base codes for both the check and the ids."""
    sequences, non_bases = [], []
    for record in records:
        seq = str(record.seq)
        codes = base_codes(seq)
        non_bases.append(non_base(seq, codes))
        if not non_bases[-1]:
            sequences.append(token_ids(codes, k, kmer_stride))
    _refuse_records(
        where,
        records,
        non_bases,
        "characters that are not bases",
        "clean the sequences (A, C, G, T, N or an IUPAC code)",
    )
    return sequences


def read(spec: dict) -> Records:
    """Every record's bases and label, refusing records without a label or with non-bases."""

    raw, where = read_source_bytes(spec)
    records = parse(raw, "fasta", where)
    sheet = _label_sheet(spec["labels"]) if spec.get("labels") else None
    pattern = re.compile(spec.get("label_pattern", r"label=(\S+)"))
    group_pattern = re.compile(spec["group_pattern"]) if spec.get("group_pattern") else None
    k = spec.get("kmer", 1)
    labels = [
        sheet.get(record.id) if sheet is not None else _header_label(pattern, record) for record in records
    ]
    _refuse_records(
        where,
        records,
        [label is None for label in labels],
        "no label",
        f"add rows for them to {spec['labels']}"
        if sheet is not None
        else "add 'label=<class>' to their headers",
    )
    _refuse_records(where, records, [len(record.seq) == 0 for record in records], "no bases", "remove them")
    sequences = _base_tokens(records, where, k, spec.get("kmer_stride"))
    groups = [_header_group(group_pattern, record) for record in records] if group_pattern else []
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    meta = {
        "vocab": dna_vocab(k),
        "vocab_size": len(dna_vocab(k)),
        "synthetic": False,
        "source": spec.get("describe") or f"FASTA {where}",
    }
    return Records(
        "tokens",
        sequences,
        np.array([index[c] for c in labels]),
        classes,
        meta,
        np.array(groups) if group_pattern else None,
    )
