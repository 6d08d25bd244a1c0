"""Generated **synthetic** EEG-like traces (no labelled EEG ships in any package this project can fetch).

Each record is `seconds` x `rate` samples on `channels` channels: shared and per-channel 1/f
background, plus an alpha rhythm (8-12 Hz, slowly waxing and waning, strongest at the back). A
record of class spike_wave or theta_burst holds one transient of `event_seconds` at a uniformly
random time. Spike-wave complexes stand out by `amplitude` (x the background rhythm); during a
theta burst the alpha rhythm gives way to a 5-7 Hz one of about its strength, so signal power
barely changes and only the rhythm tells the class."""

from __future__ import annotations

import numpy as np

from ..core.data import DataError
from ._options import COUNT, SEED
from ._records import Records

KINDS = ["signal"]
OPTIONS = {
    "seed": SEED,
    "n": COUNT,
    "rate": {"type": "number", "exclusiveMinimum": 0, "description": "samples per second"},
    "seconds": {"type": "number", "exclusiveMinimum": 0, "description": "length of a record"},
    "channels": {"type": "integer", "minimum": 1, "maximum": 8},
    "events": {
        "type": "array",
        "minItems": 2,
        "uniqueItems": True,
        "items": {"enum": ["background", "spike_wave", "theta_burst"]},
    },
    "event_seconds": {"type": "number", "exclusiveMinimum": 0},
    "amplitude": {"type": "number", "minimum": 0},
}

EEG_EVENTS = tuple(OPTIONS["events"]["items"]["enum"])  # the classes, named once (in OPTIONS)
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


def read(spec: dict) -> Records:
    """The generated traces; `n` of them, classes in equal shares, shuffled."""
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
