"""Strong references: the field's standard classifier beside the study's arms, one module each.

So that the verdict can say how far the best LSTM strategy is from the standard of its field,
every data set gets a reference fitted on the same splits: MiniRocket for signals, TF-IDF of
token 1-2-grams with logistic regression for tokens (text words and DNA k-mers alike). A
reference module is found by its file name, like the reducers, and declares:

- `KIND`: the data kind it reads ("signal" or "tokens"); `PRECISION`, what it computes in;
- `fit(train, valid, seed, threads, meta) -> (state, info)` (`meta`: the data set's, e.g. its
  units, words or bytes): fitted on train and valid only, its
  regularisation chosen on them; `state` is a dict of arrays (saved with NumPy, never pickle),
  `info` what it chose;
- `decide(state, split) -> (scores [n, classes or 1], inference FLOPs per record)`: its
  decision function; `PROBABILITIES` says whether a softmax (a sigmoid for one column) of the
  scores is the model's own class probability (logistic regression) or not (ridge: then a
  record's predicted class gets probability 1).

`run` reads the test split only after the fit is done and saved: it is read once, at the end.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np

from ..core import kernels
from ..core.data import DataError, atomic_write_bytes, load
from ..core.plugins import REFERENCES

ARM = "reference"  # the name its runs take among the arms (a family of its own in the verdict)


names = REFERENCES.names  # the plug-in protocol (longseq.core.plugins)


def module(name: str):
    return REFERENCES.load(name)


def save_state(state: dict, path: str | Path) -> None:
    """Arrays in one .npz (allow_pickle stays off when it is read); strings as JSON."""
    import io

    text = (str, dict, list, int)
    arrays = {k: np.asarray(v) for k, v in state.items() if not isinstance(v, text)}
    arrays["_json"] = np.frombuffer(
        json.dumps({k: v for k, v in state.items() if isinstance(v, text)}).encode(), np.uint8
    )
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: str | Path) -> dict:
    with np.load(path, allow_pickle=False) as saved:
        state = {k: saved[k] for k in saved.files if k != "_json"}
        state.update(json.loads(bytes(saved["_json"]).decode()))
    return state


def probabilities(state: dict, split) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities [n, classes] of the records of `split` (see `decide`) and each
    record's inference FLOPs."""
    mod = module(str(state["reference"]))
    scores, flops = mod.decide(state, split)
    if scores.shape[1] == 1:  # two classes: one score, for the second
        scores = np.concatenate([-scores, scores], 1) / (2 if mod.PROBABILITIES else 1)
    if mod.PROBABILITIES:  # the softmax of (-s/2, s/2) is the sigmoid of s
        fitted = np.exp(scores - scores.max(1, keepdims=True))
        fitted /= fitted.sum(1, keepdims=True)
    else:
        fitted = np.eye(scores.shape[1])[scores.argmax(1)]
    probs = np.zeros((len(scores), len(json.loads(str(state["classes"])))))
    probs[:, np.asarray(state["labels"], dtype=int)] = fitted  # the classes it was fitted on
    return probs, flops


def run(data: str | Path, name: str, seed: int, threads: int, state_path: str | Path) -> dict:
    """Fit reference `name` on the train and valid splits of the ingested data set `data`, save
    its state, then score it on the test split: the metrics an evaluated arm has, where they
    apply (a reference has no updates; its cost is its fitting time and inference FLOPs)."""
    from ..core.scores import test_scores

    mod = module(name)
    ds = load(data, splits=("train", "valid"))
    if ds.kind != mod.KIND:
        raise DataError(f"{data}: reference {name!r} reads {mod.KIND} data sets, this one holds {ds.kind}")
    started = time.perf_counter()
    state, info = mod.fit(ds.splits["train"], ds.splits["valid"], seed, threads, ds.meta)
    seconds = time.perf_counter() - started
    state["classes"] = json.dumps(ds.classes)
    state["reference"], state["seed"] = name, seed
    state["input"] = ds.input_format()  # what new records must look like
    save_state(state, state_path)
    test = load(data, splits=("test",)).splits["test"]  # read once, at the end
    probs, flops = probabilities(state, test)
    predicted = probs.argmax(1)
    labels = np.asarray(test.labels)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "reference": name,
        **test_scores(labels, predicted, ds),
        "mean_steps": float(test.lengths.mean()),
        "train_mode": "reference",
        "train_seconds": seconds,
        "inference_flops": float(np.mean(flops)),
        "still_improving": False,
        # on the CPU a trained arm's peak memory is its process's peak resident set: the same here
        "peak_memory_mb": peak_mb,
        "peak_host_rss_mb": peak_mb,
        "device": "cpu",
        "kernels": kernels.record(),
        "precision": mod.PRECISION,
        "chosen": info,
        "labels": labels.tolist(),
        "predicted": np.asarray(predicted).tolist(),
        "records": np.asarray(test.origin).tolist(),  # which ingested records (one row each)
    }
