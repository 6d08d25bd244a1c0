"""DNA from GenBank (annotated loci, cut into coding / non-coding windows) and FASTA (one
labelled sequence per record), both parsed by Biopython. Bases become tokens from a fixed
alphabet (or fixed k-mers), so nothing is fitted and nothing can leak between splits."""

from __future__ import annotations

import io
import re
import warnings
from itertools import product

import numpy as np

from ..data import UNK_ID, DataError, MissingFile, some_rows

BASES = "ACGTN"
AMBIGUOUS = "RYKMSWBDHV"  # IUPAC codes: read as N


def dna_vocab(k: int = 1) -> list[str]:
    """Ids 0/1 are padding and unknown; then A, C, G, T, N, or every ACGT k-mer in order
    (a k-mer holding N is unknown)."""
    return ["<pad>", "<unk>"] + (list(BASES) if k == 1 else ["".join(p) for p in product("ACGT", repeat=k)])


_CODES = np.full(256, -1, dtype=np.int64)
for _i, _b in enumerate(BASES):
    _CODES[ord(_b)] = _CODES[ord(_b.lower())] = _i
for _b in AMBIGUOUS:
    _CODES[ord(_b)] = _CODES[ord(_b.lower())] = 4


def _codes(seq: str) -> np.ndarray:
    return _CODES[np.frombuffer(seq.encode("latin-1", "replace"), dtype=np.uint8)]


def _non_base(seq: str, codes: np.ndarray) -> str | None:
    """ "character 'J' at position 3" for the first character that is not a base, else None."""
    bad = np.flatnonzero(codes < 0)
    return f"character {seq[bad[0]]!r} at position {bad[0] + 1}" if len(bad) else None


def encode_dna(seq: str, k: int = 1, stride: int | None = None, where: str = "sequence") -> np.ndarray:
    """Bases -> int32 token ids; k > 1 reads k-mers every `stride` bases (default k: the sequence
    gets k times shorter)."""
    codes = _codes(seq)
    fault = _non_base(seq, codes)
    if fault:
        raise DataError(
            f"{where}: {fault} is not a base (A, C, G, T, N or an IUPAC code); clean the sequence"
        )
    return _token_ids(codes, k, stride)


def _token_ids(codes: np.ndarray, k: int, stride: int | None) -> np.ndarray:
    """Base codes (all valid) -> int32 token ids, as `encode_dna` describes."""
    if k == 1:
        return (codes + 2).astype(np.int32)
    stride = stride or k
    if len(codes) < k:
        return np.zeros(0, dtype=np.int32)
    kmers = np.lib.stride_tricks.sliding_window_view(codes, k)[::stride]
    ids = (kmers * 4 ** np.arange(k - 1, -1, -1)).sum(axis=1) + 2
    ids[(kmers == 4).any(axis=1)] = UNK_ID
    return ids.astype(np.int32)


def _parse(raw: bytes, fmt: str, where: str) -> list:
    from Bio import BiopythonParserWarning, SeqIO

    try:
        with warnings.catch_warnings():  # AUGUSTUS' LOCUS lines are short; Biopython copes but warns
            warnings.simplefilter("ignore", BiopythonParserWarning)
            records = list(SeqIO.parse(io.StringIO(raw.decode("utf-8", "replace")), fmt))
    except ValueError as exc:
        layout = {
            "fasta": "each record is a line '>id label=<class>' followed by its sequence lines",
            "genbank": "each entry runs from its LOCUS line to a line '//' (is the file cut short?)",
        }
        raise DataError(f"{where}: cannot parse as {fmt}: {layout.get(fmt, 'check the file')}") from exc
    if not records:
        what = "LOCUS ... // entries" if fmt == "genbank" else "records (lines starting with '>')"
        raise DataError(f"{where}: no {what} found; is this a {fmt} file?")
    return records


def _windows(length: int, window: int, stride: int) -> range:
    return range(0, length - window + 1, stride)


_COMPLEMENT = str.maketrans("ACGTNRYKMSWBDHVacgtnrykmswbdhv", "TGCANYRMKSWVHDBtgcanyrmkswvhdb")


def reverse_complement(bases: str) -> str:
    return bases.translate(_COMPLEMENT)[::-1]


def _locus_windows(record, name: str, avoid: set, window: int, stride: int, add) -> int:
    """Hand one locus's windows to `add(bases, label, name)`: coding (1) from each CDS, in the
    order read, then non-coding (0) from the stretches no avoided feature touches. Returns the
    number of CDS features."""
    try:
        bases = str(record.seq)
    except Exception as exc:  # Biopython's UndefinedSequenceError: no ORIGIN section
        raise DataError(f"{name} has no sequence (ORIGIN section); remove the entry") from exc
    covered, n_cds = np.zeros(len(bases), dtype=bool), 0
    for feature in record.features:
        if feature.type in avoid:
            for part in feature.location.parts:
                covered[int(part.start) : int(part.end)] = True
        if feature.type != "CDS":
            continue
        n_cds += 1
        coding = str(feature.extract(record.seq))
        for start in _windows(len(coding), window, stride):
            add(coding[start : start + window], 1, name)
    edges = np.flatnonzero(np.diff(np.r_[1, covered.astype(np.int8), 1]))
    for lo, hi in zip(edges[::2], edges[1::2]):
        for start in _windows(hi - lo, window, stride):
            add(bases[lo + start : lo + start + window], 0, name)
    return n_cds


def genbank(spec: dict):
    """Fixed-length windows of annotated loci: coding windows are cut from each CDS as it is read
    (exons joined, reverse-complemented on the minus strand); non-coding windows from each
    stretch that no CDS part touches (flanks and introns; in a gene-finding training set these
    may still hold unannotated genes). Windows of one locus share a split (group = locus).

    With `strand: random` (the default) every window, coding or not, is read from a strand
    chosen at random (seeded by `split_seed`). Otherwise coding windows would always be in
    sense orientation and non-coding ones always the forward strand, and the orientation
    alone (codon bias read one way) could give the label away."""
    from . import Records, read_source_bytes

    raw, where = read_source_bytes(spec)
    window, k = spec.get("window", 1000), spec.get("kmer", 1)
    stride = spec.get("stride", window)
    avoid = set(spec.get("avoid_features", ["CDS"]))
    random_strand = spec.get("strand", "random") == "random"
    rng = np.random.default_rng([spec.get("split_seed", 0), 17])
    sequences, labels, groups = [], [], []

    def add(bases: str, label: int, locus: int, where: str) -> None:
        if random_strand and rng.random() < 0.5:
            bases = reverse_complement(bases)
        sequences.append(encode_dna(bases, k, spec.get("kmer_stride"), where))
        labels.append(label)
        groups.append(locus)

    n_cds = 0
    for locus, record in enumerate(_parse(raw, "genbank", where)):
        n_cds += _locus_windows(
            record,
            f"{where}: locus {record.name}",
            avoid,
            window,
            stride,
            lambda bases, label, name, locus=locus: add(bases, label, locus, name),
        )
    if n_cds == 0:
        raise DataError(
            f"{where}: no CDS features, so no window can be labelled coding; is this annotated GenBank?"
        )
    if not sequences:
        raise DataError(f"{where}: no locus is {window} bases long; lower the window option")
    meta = {
        "vocab": dna_vocab(k),
        "vocab_size": len(dna_vocab(k)),
        "synthetic": False,
        "source": spec.get("describe") or f"GenBank {where}: {window}-bp windows, coding vs non-coding",
        "loci": int(locus + 1),
    }
    return Records("tokens", sequences, np.array(labels), ["non_coding", "coding"], meta, np.array(groups))


def _label_sheet(path: str) -> dict[str, str]:
    import pandas as pd

    try:
        table = pd.read_csv(path, sep=None, engine="python", dtype=str)
    except FileNotFoundError:
        raise MissingFile(path, "give the label sheet's path (columns id and label)") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        from .text import table_problem

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
        codes = _codes(seq)
        non_bases.append(_non_base(seq, codes))
        if not non_bases[-1]:
            sequences.append(_token_ids(codes, k, kmer_stride))
    _refuse_records(
        where,
        records,
        non_bases,
        "characters that are not bases",
        "clean the sequences (A, C, G, T, N or an IUPAC code)",
    )
    return sequences


def fasta(spec: dict):
    """One labelled sequence per FASTA record. The label comes from the header
    (`label_pattern`, default `label=<class>`) or from a label sheet (columns id, label);
    an optional `group_pattern` keeps related records in one split."""
    from . import Records, read_source_bytes

    raw, where = read_source_bytes(spec)
    records = _parse(raw, "fasta", where)
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
