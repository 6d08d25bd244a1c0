"""Annotated loci (GenBank, read by Biopython), cut into coding / non-coding windows, each from a random strand.

Coding windows are cut from each CDS as it is read (exons joined, reverse-complemented on the
minus strand); non-coding windows from each stretch that no CDS part touches (flanks and introns;
in a gene-finding training set these may still hold unannotated genes). Windows of one locus
share a split (group = locus). With `strand: random` (the default) every window, coding or not,
is read from a strand chosen at random (seeded by `split_seed`). Otherwise coding windows would
always be in sense orientation and non-coding ones always the forward strand, and the
orientation alone (codon bias read one way) could give the label away."""

from __future__ import annotations

import numpy as np

from ..core.data import DataError
from ._archives import read_source_bytes
from ._dna import dna_vocab, encode_dna, parse, reverse_complement
from ._options import KMER, KMER_STRIDE
from ._records import Records

KINDS = ["tokens"]
REQUIRED = ["path"]
OPTIONS = {
    "window": {"type": "integer", "minimum": 1, "description": "bases per window"},
    "stride": {
        "type": "integer",
        "minimum": 1,
        "description": "bases between window starts (default: window)",
    },
    "strand": {
        "enum": ["random", "as_read"],
        "description": "random (default): each window from a random strand, so orientation cannot give the label away",
    },
    "avoid_features": {
        "type": "array",
        "items": {"type": "string"},
        "description": "non-coding windows touch no part of these feature types (default [CDS])",
    },
    "kmer": KMER,
    "kmer_stride": KMER_STRIDE,
}


def _windows(length: int, window: int, stride: int) -> range:
    return range(0, length - window + 1, stride)


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


def read(spec: dict) -> Records:
    """Every locus's coding and non-coding windows, a locus's windows one group."""

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
    for locus, record in enumerate(parse(raw, "genbank", where)):
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
