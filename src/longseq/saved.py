"""The files a run leaves: a trained model (weights plus what applying them to new records
takes), a pretrained encoder and a run's history. Written atomically; read without pickle."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch import nn

from .data import Dataset, atomic_write_bytes, atomic_write_json, dataset_digest
from .models import build_model
from .settings import ModelConfig, as_dict


# what prediction needs of the training data besides the weights (see longseq.predict)
DATA_KEYS = ("input", "fitted", "arm", "draw", "pieces", "streams", "name")

def save_model(model: nn.Module, ds: Dataset, model_config: dict, path: str | os.PathLike, seed: int = 0) -> None:
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
