"""EDF/EDF+ recordings (pyedflib): labelled epochs cut at annotations.

An epoch of `epoch_seconds` is cut at each annotation whose description the `labels` option maps
to a class (all descriptions are classes when it is absent); an annotation longer than one epoch
gives consecutive epochs. Epochs of one file share a split. Values keep their physical units."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from ..core.data import DataError
from ._records import Records

KINDS = ["signal"]
REQUIRED = ["path"]
OPTIONS = {
    "channels": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "epoch_seconds": {"type": "number", "exclusiveMinimum": 0},
    "labels": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "annotation -> class",
    },
}


def _edf_files(pattern: str) -> list[Path]:
    paths = sorted(Path(p) for p in glob.glob(pattern))
    if not paths:
        raise DataError(f"{pattern}: no EDF file matches the sheet's path; fix the path or the glob")
    return paths


def _read_edf(path: Path, wanted: list[str] | None):
    import pyedflib

    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise DataError(
            f"{path}: cannot read as EDF/EDF+: its header is not an EDF header, or the file is cut short "
            "(its size differs from what the header declares); is the file complete?"
        ) from exc
    try:
        names = [label.strip() for label in reader.getSignalLabels()]
        wanted = wanted or names
        missing = [c for c in wanted if c not in names]
        if missing:
            raise DataError(f"{path}: no channel {missing[0]!r} (it has {names}); fix the channels option")
        idx = [names.index(c) for c in wanted]
        rates = {float(reader.getSampleFrequency(i)) for i in idx}
        if len(rates) != 1:
            raise DataError(
                f"{path}: channels {wanted} are sampled at different rates {sorted(rates)} Hz; "
                "list channels of one rate in the channels option"
            )
        signals = np.stack([reader.readSignal(i) for i in idx], axis=1).astype(np.float32)
        onsets, durations, descriptions = reader.readAnnotations()
    finally:
        reader.close()
    annotations = [(float(o), float(d), str(text)) for o, d, text in zip(onsets, durations, descriptions)]
    return signals, rates.pop(), wanted, annotations


def read(spec: dict) -> Records:
    """The labelled epochs of every file the path's glob matches."""

    epoch_seconds = spec.get("epoch_seconds", 30.0)
    mapping = spec.get("labels")
    sequences, names, groups, channels, rate0 = [], [], [], None, None
    seen = set()
    for group, path in enumerate(_edf_files(spec["path"])):
        signals, rate, chans, annotations = _read_edf(path, spec.get("channels"))
        if channels is None:
            channels, rate0 = chans, rate
        elif chans != channels or rate != rate0:
            raise DataError(
                f"{path}: channels {chans} at {rate} Hz differ from the first file's {channels} at {rate0} Hz"
            )
        n = round(epoch_seconds * rate)
        for onset, duration, description in annotations:
            seen.add(description)
            label = mapping.get(description) if mapping else description
            if label is None:
                continue
            count = max(1, int(duration // epoch_seconds)) if duration > 0 else 1
            for e in range(count):
                start = round((onset + e * epoch_seconds) * rate)
                if start + n <= len(signals):  # an epoch cut off by the end of the recording is dropped
                    sequences.append(signals[start : start + n])
                    names.append(label)
                    groups.append(group)
    if not sequences:
        raise DataError(
            f"{spec['path']}: no annotation gives an epoch (descriptions found: {sorted(seen)}); "
            "fix the labels option or epoch_seconds"
        )
    classes = list(dict.fromkeys(mapping.values())) if mapping else sorted(set(names))
    classes = [c for c in classes if c in set(names)]
    index = {c: i for i, c in enumerate(classes)}
    meta = {
        "channels": channels,
        "rate_hz": rate0,
        "synthetic": False,
        "source": spec.get("describe") or f"EDF {spec['path']}: {epoch_seconds}-s epochs",
    }
    return Records("signal", sequences, np.array([index[c] for c in names]), classes, meta, np.array(groups))
