"""DNA bases as tokens, shared by the genbank and fasta readers (both parsed by Biopython). Bases
become tokens from a fixed alphabet (or fixed k-mers), so nothing is fitted and nothing can leak
between splits."""

from __future__ import annotations

import io
import warnings
from itertools import product

import numpy as np

from ..core.data import UNK_ID, DataError

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


def base_codes(seq: str) -> np.ndarray:
    return _CODES[np.frombuffer(seq.encode("latin-1", "replace"), dtype=np.uint8)]


def non_base(seq: str, codes: np.ndarray) -> str | None:
    """ "character 'J' at position 3" for the first character that is not a base, else None."""
    bad = np.flatnonzero(codes < 0)
    return f"character {seq[bad[0]]!r} at position {bad[0] + 1}" if len(bad) else None


def encode_dna(seq: str, k: int = 1, stride: int | None = None, where: str = "sequence") -> np.ndarray:
    """Bases -> int32 token ids; k > 1 reads k-mers every `stride` bases (default k: the sequence
    gets k times shorter)."""
    codes = base_codes(seq)
    fault = non_base(seq, codes)
    if fault:
        raise DataError(
            f"{where}: {fault} is not a base (A, C, G, T, N or an IUPAC code); clean the sequence"
        )
    return token_ids(codes, k, stride)


def token_ids(codes: np.ndarray, k: int, stride: int | None) -> np.ndarray:
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


def parse(raw: bytes, fmt: str, where: str) -> list:
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


_COMPLEMENT = str.maketrans("ACGTNRYKMSWBDHVacgtnrykmswbdhv", "TGCANYRMKSWVHDBtgcanyrmkswvhdb")


def reverse_complement(bases: str) -> str:
    return bases.translate(_COMPLEMENT)[::-1]
