"""MiniRocket (Dempster, Schmidt & Webb 2021), as sktime implements it: about 10,000 features
from random dilated convolutions, each the proportion of positive values, scaled, then a ridge
classifier whose strength is chosen by leave-one-out over train and valid (the reference
pipeline of the MiniRocket paper, and of aeon's and sktime's MiniRocket classifiers).

Records of unequal length are resampled to the longest train or valid record by linear
interpolation (MiniRocket's features are proportions over the whole series, so zero padding
would shift them with the length); records of equal length are read as they are.
"""

from __future__ import annotations

import numpy as np

from ..core.data import Split

KIND = "signal"
PROBABILITIES = False  # a ridge classifier has none
PRECISION = "float32"
N_KERNELS = 10_000
ALPHAS = np.logspace(-3, 3, 10)  # MiniRocketClassifier's ridge strengths
MIN_LENGTH = 9  # MiniRocket's kernels are 9 steps long


def to_panel(split: Split, length: int) -> np.ndarray:
    """[n, channels, length] float32; records of another length resampled to it."""
    values = np.asarray(split.values, dtype=np.float32)
    out = np.empty((len(split), values.shape[1], length), dtype=np.float32)
    target = np.linspace(0.0, 1.0, length)
    for i in range(len(split)):
        record = values[split.offsets[i] : split.offsets[i + 1]]
        if len(record) == length:
            out[i] = record.T
        else:
            source = np.linspace(0.0, 1.0, len(record))
            out[i] = np.stack([np.interp(target, source, channel) for channel in record.T])
    return out


def _transform(n_channels: int, threads: int, seed: int):
    """sktime's univariate MiniRocket for one channel (faster), its multivariate one for more."""
    from sktime.transformations.rocket import MiniRocket, MiniRocketMultivariate

    kind = MiniRocket if n_channels == 1 else MiniRocketMultivariate
    return kind(num_kernels=N_KERNELS, n_jobs=threads, random_state=seed)


def _features(transform, x: np.ndarray) -> np.ndarray:
    return np.asarray(transform.transform(x), dtype=np.float64)


def fit(train: Split, valid: Split, seed: int, threads: int, meta: dict) -> tuple[dict, dict]:
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    length = int(max(train.lengths.max(), valid.lengths.max(), MIN_LENGTH))
    x = np.concatenate([to_panel(train, length), to_panel(valid, length)])
    y = np.concatenate([train.labels, valid.labels])
    transform = _transform(x.shape[1], threads, seed).fit(x)
    features = _features(transform, x)
    scaler = StandardScaler(with_mean=False).fit(features)
    ridge = RidgeClassifierCV(alphas=ALPHAS).fit(scaler.transform(features), y)
    state = {f"parameter{i}": np.asarray(p) for i, p in enumerate(transform.parameters)}
    state |= {
        "length": length,
        "n_channels": x.shape[1],
        "scale": scaler.scale_,
        "coef": ridge.coef_,
        "intercept": ridge.intercept_,
        "labels": ridge.classes_,
    }
    lengths = np.concatenate([train.lengths, valid.lengths])
    info = {
        "alpha": float(ridge.alpha_),
        "length": length,
        "resampled_records": int((lengths != length).sum()),
        "features": int(features.shape[1]),
    }
    return state, info


def _parameters(state: dict) -> list[np.ndarray]:
    return [state[f"parameter{i}"] for i in range(sum(k.startswith("parameter") for k in state))]


def _flops(state: dict, length: int, n_classes: int) -> float:
    """Per record, from the fitted parameters' shapes: each dilation's 84 kernels of 9 taps over
    the channels of their combination, one comparison and sum per feature and step, the ridge."""
    parameters = _parameters(state)
    dilations = parameters[-3]
    channels = float(np.mean(parameters[0])) if len(parameters) == 5 else 1.0
    features = int(np.sum(parameters[-2])) * 84
    return 2 * len(dilations) * 84 * 9 * channels * length + 2 * features * length + 2 * features * n_classes


def decide(state: dict, split: Split) -> tuple[np.ndarray, np.ndarray]:
    length, n_channels = int(state["length"]), int(state["n_channels"])
    x = to_panel(split, length)
    transform = _transform(n_channels, 1, 0)
    transform.fit(np.zeros((2, n_channels, length), dtype=np.float32))  # sets its input checks
    transform.parameters = tuple(_parameters(state))
    scores = _features(transform, x) / state["scale"] @ np.atleast_2d(state["coef"]).T + state["intercept"]
    flops = _flops(state, length, scores.shape[1])
    return scores, np.full(len(split), flops)
