"""Generated long-range control task (tokens or signals): the class evidence sits where the study says.

These are the controls that show which strategy can reach evidence at the start, middle, end or
anywhere of a long sequence. Tokens: uniform noise tokens, with `evidence_count` marker tokens of
the sequence's class planted inside the evidence window (each class owns `markers_per_class`
marker ids), and optionally `distractors` markers of random classes planted outside it, so that
only the position of a marker tells the class. Signals: multi-channel rhythms and noise, with a
class-specific burst (its own frequency) inside the evidence window."""

from __future__ import annotations

import numpy as np

from ..core.data import DataError
from ._options import COUNT, FRACTION, SEED
from ._records import Records

KINDS = ["tokens", "signal"]
OPTIONS = {
    "seed": SEED,
    "n": COUNT,
    "n_classes": {"type": "integer", "minimum": 2},
    "length": {"type": "integer", "minimum": 16},
    "min_length_fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "evidence": {"enum": ["start", "middle", "end", "spread"]},
    "evidence_count": {"type": "integer", "minimum": 1},
    "evidence_span": FRACTION,
    "distractors": {"type": "integer", "minimum": 0},
    "noise_vocab": {"type": "integer", "minimum": 1},
    "markers_per_class": {"type": "integer", "minimum": 1},
    "channels": {"type": "integer", "minimum": 1},
    "noise": {"type": "number", "minimum": 0},
    "amplitude": {"type": "number", "minimum": 0},
}


def _evidence_positions(rng, length: int, place: str, count: int, span: float) -> np.ndarray:
    """Where the class evidence goes: a window of `span` x length at the start, middle or end,
    or anywhere ("spread")."""
    width = max(count, round(span * length))
    if place == "start":
        lo = 0
    elif place == "end":
        lo = length - width
    elif place == "middle":
        lo = (length - width) // 2
    elif place == "spread":
        lo, width = 0, length
    else:
        raise DataError(f"synthetic: unknown evidence place {place!r}; use start, middle, end or spread")
    return np.sort(lo + rng.choice(width, size=count, replace=False))


def read(spec: dict) -> Records:
    """The generated records; `n` of them, classes in equal shares, shuffled."""
    rng = np.random.default_rng(spec.get("seed", 0))
    n, n_classes = spec.get("n", 600), spec.get("n_classes", 2)
    max_len = spec.get("length", 2000)
    min_len = int(max_len * spec.get("min_length_fraction", 0.8))
    place, count = spec.get("evidence", "start"), spec.get("evidence_count", 16)
    span = spec.get("evidence_span", 0.1)
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    classes = [f"class{c}" for c in range(n_classes)]
    sequences = []
    if spec.get("kind", "tokens") == "tokens":
        noise_vocab, per_class = spec.get("noise_vocab", 50), spec.get("markers_per_class", 4)
        first_marker = 2 + noise_vocab  # ids 0 and 1 are padding and unknown
        vocab = ["<pad>", "<unk>"] + [f"n{i}" for i in range(noise_vocab)]
        vocab += [f"c{c}m{m}" for c in range(n_classes) for m in range(per_class)]
        for label, length in zip(labels, lengths):
            seq = rng.integers(2, first_marker, size=length)
            where = _evidence_positions(rng, length, place, count, span)
            seq[where] = first_marker + label * per_class + rng.integers(per_class, size=count)
            n_distract = spec.get("distractors", 0)
            if n_distract:
                outside = np.setdiff1d(np.arange(length), np.arange(where.min(), where.max() + 1))
                spots = rng.choice(outside, size=min(n_distract, len(outside)), replace=False)
                fake = rng.integers(n_classes, size=len(spots))
                seq[spots] = first_marker + fake * per_class + rng.integers(per_class, size=len(spots))
            sequences.append(seq.astype(np.int32))
        meta = {"vocab": vocab, "vocab_size": len(vocab), "synthetic": True}
    else:
        channels = spec.get("channels", 4)
        burst = max(16, int(span * max_len))
        for label, length in zip(labels, lengths):
            t = np.arange(length)[:, None]
            freqs = rng.uniform(0.01, 0.08, size=channels)
            phases = rng.uniform(0, 2 * np.pi, size=channels)
            seq = np.sin(2 * np.pi * freqs * t + phases) + rng.normal(
                0, spec.get("noise", 1.0), (length, channels)
            )
            start = int(_evidence_positions(rng, length - burst + 1, place, 1, span)[0])
            envelope = np.hanning(burst)[:, None]
            cycle = 0.1 + 0.1 * label  # each class bursts at its own frequency
            wave = np.sin(2 * np.pi * cycle * np.arange(burst))[:, None]
            seq[start : start + burst] += spec.get("amplitude", 2.0) * envelope * wave
            sequences.append(seq.astype(np.float32))
        meta = {"channels": [f"ch{c}" for c in range(channels)], "synthetic": True}
    meta["source"] = f"synthetic {spec.get('kind', 'tokens')}, evidence at {place}"
    return Records(spec.get("kind", "tokens"), sequences, labels, classes, meta)
