"""The files a run leaves: a trained model (weights plus what applying them to new records
takes), a pretrained encoder and a run's history. Written atomically; read without pickle."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch import nn

from ..core.data import Dataset, atomic_write_bytes, atomic_write_json, dataset_digest
from ..core.settings import ModelConfig, as_dict
from ..models import build_model
from ..models.lstm import LSTMClassifier

# what prediction needs of the training data besides the weights (see longseq.steps.predict)
DATA_KEYS = ("input", "fitted", "arm", "draw", "pieces", "streams", "name")


def save_model(
    model: nn.Module, ds: Dataset, model_config: dict, path: str | os.PathLike, seed: int = 0
) -> None:
    """The weights with what it takes to apply them to new records on another machine: the
    model's settings, the data's classes and kind, the reduction and everything fitted on
    the training data (vocabulary, token ranks), the run's seed and the data's digest."""
    buffer = io.BytesIO()
    torch.save(
        {
            "model_config": as_dict(ModelConfig.from_dict(model_config)),
            "kind": ds.kind,
            "classes": ds.classes,
            "n_inputs": ds.vocab_size if ds.kind == "tokens" else ds.n_channels,
            "state_dict": model.state_dict(),
            "data": {k: ds.meta[k] for k in DATA_KEYS if k in ds.meta},
            "seed": seed,
            "data_digest": dataset_digest(ds),
        },
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def load_model(path: str | os.PathLike, ds: Dataset, device: torch.device) -> nn.Module:
    saved = torch.load(Path(path), map_location=device, weights_only=True)
    if saved["classes"] != ds.classes or saved["kind"] != ds.kind:
        raise ValueError(f"{path}: model was trained on other classes or kind than this data set")
    model = build_model(ds, saved["model_config"])
    model.load_state_dict(saved["state_dict"])
    return model.to(device)


def write_history(history: dict, path: str | os.PathLike) -> None:
    atomic_write_json(path, history)


def save_encoder(state: dict, ds: Dataset, model_config: dict, path: str | os.PathLike) -> None:
    buffer = io.BytesIO()
    torch.save(
        {
            "kind": ds.kind,
            "input_shape": input_shape(ds),
            "model_config": model_config,
            "encoder": {k: v for k, v in state.items() if not k.startswith("head.")},
        },
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def input_shape(ds: Dataset) -> list:
    """What an encoder's weights fit: token vocabulary and streams, or signal channels."""
    if ds.kind == "tokens":
        return ["tokens", ds.vocab_size, ds.meta.get("streams", 1)]
    return ["signal", ds.n_channels]


def init_from_encoder(model: nn.Module, ds: Dataset, path: str | os.PathLike) -> None:
    """Copy a pretrained encoder's input layer, normalisation, front end (if any) and LSTM into
    a classifier."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved["input_shape"] != input_shape(ds):
        raise ValueError(
            f"{path}: the encoder was pretrained on inputs {saved['input_shape']}, but this arm's data has "
            f"{input_shape(ds)}; pretraining fits arms whose reduction keeps the inputs (full, truncate, "
            "sample, summarize of tokens)"
        )
    target = getattr(model, "encoder", model)  # the chunk encoder's encoder, or the (seq2seq) classifier
    if not isinstance(target, LSTMClassifier):
        raise ValueError(  # noqa: TRY004 -- a study's settings at fault, reported as such by the CLI
            "a pretrained encoder initialises the LSTM classifier or the chunk encoder only"
        )
    pretrained_front = any(k.startswith("front.") for k in saved["encoder"])
    if (target.front is not None) != pretrained_front:  # the study's check says so before any job
        made, wanted = ("conv_lstm", "lstm") if pretrained_front else ("lstm", "conv_lstm")
        raise ValueError(
            f"{path}: the encoder was pretrained with 'encoder: {made}', but this arm's model needs "
            f"'encoder: {wanted}' (a learned summarizer's LSTM reads its summaries, a plain LSTM's the steps)"
        )
    try:
        missing, unexpected = target.load_state_dict(saved["encoder"], strict=False)
    except RuntimeError as exc:  # size mismatch: other hidden/embedding sizes
        raise ValueError(f"{path}: encoder sizes differ from this arm's model settings ({exc})") from exc
    encoder_part = ("inputs.", "front.", "lstm.")
    if unexpected or [k for k in missing if k.startswith(encoder_part)]:
        raise ValueError(
            f"{path}: encoder does not fit the model (missing {missing}, unexpected {unexpected})"
        )
