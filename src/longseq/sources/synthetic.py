"""Generated data sets whose class evidence sits where the study says: the controls that show
which strategy can reach evidence at the start, middle, end or anywhere of a long sequence."""

from __future__ import annotations

import numpy as np

from ..data import DataError
from . import Records


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


def synthetic(spec: dict) -> Records:
    """A long-range task whose only class evidence sits at a known place.

    Tokens: uniform noise tokens, with `evidence_count` marker tokens of the sequence's class
    planted inside the evidence window (each class owns `markers_per_class` marker ids), and
    optionally `distractors` markers of random classes planted outside it, so that only the
    position of a marker tells the class. Signals: multi-channel rhythms and noise, with a
    class-specific burst (its own frequency) inside the evidence window.
    """
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


# --------------------------------------------------------------------------- EEG-like

EEG_EVENTS = ("background", "spike_wave", "theta_burst")
EEG_CHANNELS = ("Fz", "Cz", "Pz", "Oz", "F3", "F4", "P3", "P4")


def _pink_noise(rng, length: int, channels: int, rate: float) -> np.ndarray:
    """1/f noise per channel (white noise shaped in the frequency domain), unit variance, with
    nothing below 0.5 Hz (as after the high-pass filter of a clinical EEG recording)."""
    spectrum = np.fft.rfft(rng.normal(size=(length, channels)), axis=0)
    freqs = np.fft.rfftfreq(length, d=1 / rate)
    spectrum *= np.where(freqs < 0.5, 0.0, 1.0 / np.sqrt(np.maximum(freqs, 0.5)))[:, None]
    noise = np.fft.irfft(spectrum, n=length, axis=0)
    return noise / noise.std(axis=0, keepdims=True)


def _eeg_event(kind: str, rng, n: int, rate: float) -> np.ndarray:
    """One transient of n samples with a smooth envelope, before channel gains."""
    t = np.arange(n) / rate
    envelope = np.hanning(n)
    if kind == "spike_wave":  # ~3 Hz spike-and-wave: a sharp peak then a slow wave, per cycle
        phase = (2 * np.pi * rng.uniform(2.5, 3.5) * t) % (2 * np.pi)
        spike = np.exp(-0.5 * ((phase - 0.5) / 0.12) ** 2)
        wave = -np.sin(phase - 0.5).clip(max=0)
        return envelope * (1.6 * spike - 0.8 * wave)
    if kind == "theta_burst":  # the background alpha gives way to a 5-7 Hz rhythm
        return envelope * np.sin(2 * np.pi * rng.uniform(5.0, 7.0) * t + rng.uniform(0, 2 * np.pi))
    raise DataError(f"eeg_synthetic: unknown event {kind!r}; use one of {EEG_EVENTS}")


def eeg_synthetic(spec: dict) -> Records:
    """SYNTHETIC EEG-like traces (no labelled EEG ships in any package this project can fetch).

    Each record is `seconds` x `rate` samples on `channels` channels: shared and per-channel 1/f
    background, plus an alpha rhythm (8-12 Hz, slowly waxing and waning, strongest at the back).
    A record of class spike_wave or theta_burst holds one transient of `event_seconds` at a
    uniformly random time. Spike-wave complexes stand out by `amplitude` (x the background
    rhythm); during a theta burst the alpha rhythm gives way to a 5-7 Hz one of about its
    strength, so signal power barely changes and only the rhythm tells the class.
    """
    rng = np.random.default_rng(spec.get("seed", 0))
    classes = list(spec.get("events", EEG_EVENTS))
    n, rate = spec.get("n", 600), float(spec.get("rate", 100))
    length, channels = int(spec.get("seconds", 30) * rate), spec.get("channels", 4)
    event_len = int(spec.get("event_seconds", 3.0) * rate)
    amplitude = spec.get("amplitude", 3.0)
    if channels > len(EEG_CHANNELS):
        raise DataError(f"eeg_synthetic: at most {len(EEG_CHANNELS)} channels, not {channels}")
    if event_len >= length:
        raise DataError("eeg_synthetic: event_seconds must be shorter than seconds")
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    t = np.arange(length) / rate
    back_gain = np.linspace(0.5, 1.0, channels)  # alpha grows towards posterior channels
    sequences = []
    for label in labels:
        common = _pink_noise(rng, length, 1, rate)
        background = 0.6 * common + 0.8 * _pink_noise(rng, length, channels, rate)
        wax = 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 2 * np.pi))
        alpha = np.sin(2 * np.pi * rng.uniform(8, 12) * t + rng.uniform(0, 2 * np.pi)) * wax
        trace = background + alpha[:, None] * back_gain
        event = classes[label]
        if event != "background":
            start = int(rng.integers(0, length - event_len))
            shape = _eeg_event(event, rng, event_len, rate)
            window = slice(start, start + event_len)
            if event == "theta_burst":  # the rhythm changes, the power does not
                trace[window] -= (np.hanning(event_len) * alpha[window])[:, None] * back_gain
                gains = back_gain * wax[window].mean()
            else:
                gains = amplitude * rng.uniform(0.6, 1.2, size=channels)
            trace[window] += shape[:, None] * gains
        sequences.append((20.0 * trace).astype(np.float32))  # microvolt-like scale
    meta = {
        "channels": [f"{EEG_CHANNELS[c]} (synthetic)" for c in range(channels)],
        "rate_hz": rate,
        "synthetic": True,
        "source": f"SYNTHETIC EEG-like: {channels} channels x {length} samples, one transient per record",
    }
    return Records("signal", sequences, labels, classes, meta)
