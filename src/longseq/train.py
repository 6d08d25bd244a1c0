"""Train an LSTM classifier with full backpropagation through time, early-stopped on valid.

The test split is never touched here: model selection (the best epoch) uses valid alone.
Same data, config, seed and thread count give the same numbers on CPU.
"""

from __future__ import annotations

import io
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .data import Dataset, atomic_write_bytes, atomic_write_json
from .models import average_views, build_model, collate, length_batches, predict_proba
from .tbptt import last_k_batch, tbptt_batch

MODES = ("bptt", "tbptt", "last_k")
DEFAULTS = {
    "mode": "bptt",  # full BPTT; "tbptt" needs k1 and k2, "last_k" needs k (see longseq.tbptt)
    "k1": 100,
    "k2": 100,
    "k": 100,
    "amp": False,  # bfloat16 autocast on CUDA; ignored on CPU
    "max_epochs": 10,
    "patience": 3,
    "batch_size": 32,
    "lr": 2e-3,
    "grad_clip": 1.0,
    "weight_decay": 0.0,
}


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when present (the GPU the scheduler gave via CUDA_VISIBLE_DEVICES), else CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def flush_denormals() -> None:
    """Treat subnormal floats as zero on CPU. Gradients that fade over thousands of steps
    become subnormal, and x86 arithmetic on them is ~100x slower: measured here, a full-BPTT
    batch of 32 x 1,800 steps took 1.4 s with them and 0.23 s without."""
    torch.set_flush_denormal(True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def peak_memory_mb(device: torch.device) -> float:
    """Peak GPU memory allocated on CUDA; peak resident memory of this process on CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _evaluate_split(model, split, device, batch_size) -> tuple[float, float]:
    probs, labels = average_views(predict_proba(model, split, batch_size), split)
    loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())
    return loss, float((probs.argmax(1) == labels).mean())


def _train_batch(model, optimiser, train, rows, cfg, device) -> tuple[float, torch.Tensor, torch.Tensor]:
    """One batch in the arm's training mode; returns (mean loss, logits, labels)."""
    y = torch.from_numpy(train.labels[rows])
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cfg["amp"] and device.type == "cuda")

    def step() -> None:
        nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)

    optimiser.zero_grad(set_to_none=True)
    mode = cfg["mode"]
    if mode == "bptt":
        x, lengths = collate(train, rows, device)
        with autocast:
            logits = model(x, lengths)
            loss = nn.functional.cross_entropy(logits.float(), y.to(device))
        loss.backward()
        step()
        return loss.item(), logits, y
    # truncated modes keep the batch on the CPU and move one chunk at a time
    x, lengths = collate(train, rows, torch.device("cpu"))
    with autocast:
        if mode == "tbptt":
            loss, logits = tbptt_batch(model, x, lengths, y, cfg["k1"], cfg["k2"], step, device)
            return loss, logits, y
        if mode == "last_k":
            loss, logits = last_k_batch(model, x, lengths, y, cfg["k"], device)
    loss.backward()
    step()
    return loss.item(), logits, y


def _rng_state(rng: np.random.Generator) -> dict:
    return {
        "numpy": rng.bit_generator.state,
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
    }


def _restore_rng(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    random.setstate(state["python"])


def _save_checkpoint(path, identity, model, optimiser, rng, history, best, elapsed) -> None:
    buffer = io.BytesIO()
    torch.save(
        {
            "identity": identity,
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "rng": _rng_state(rng),
            "history": history,
            "best": best,
            "elapsed": elapsed,
        },
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def train_model(
    ds: Dataset,
    model_config: dict,
    train_config: dict,
    seed: int,
    device: torch.device | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    init_encoder: str | os.PathLike | None = None,
) -> tuple[nn.Module, dict]:
    """Fit on ds.splits['train'], keep the weights of the best valid epoch; return them and
    the history (per-epoch losses and accuracies, wall time, peak memory).

    With `checkpoint`, the full training state (weights, optimiser, every RNG, history) is
    written there atomically after each epoch, and a run that finds a checkpoint of the same
    settings resumes from it: a killed job that is retried ends with the same numbers as one
    that was never interrupted (on CPU). With `init_encoder`, the embedding/normalisation and
    LSTM start from a pretrained sequence autoencoder (see longseq.pretrain)."""
    cfg = {**DEFAULTS, **train_config}
    if cfg["mode"] not in MODES:
        raise ValueError(f"unknown training mode {cfg['mode']!r}; use one of {MODES}")
    device = device or pick_device()
    flush_denormals()
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    train, valid = ds.splits["train"], ds.splits["valid"]
    model = build_model(ds, model_config)
    if cfg["mode"] != "bptt" and not hasattr(model, "run"):  # truncated modes read chunk by chunk
        raise ValueError(
            f"training mode {cfg['mode']!r} needs an LSTM model that reads in chunks "
            f"(lstm, seq2seq), not {model_config['type']!r}"
        )
    model.fit_normalisation(train)
    if init_encoder:
        from .pretrain import init_from_encoder

        init_from_encoder(model, ds, init_encoder)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    identity = {
        "model": model_config,
        "train": cfg,
        "seed": seed,
        "n_train": len(train),
        "init": str(init_encoder),
    }
    history = {
        "epochs": [],
        "seed": seed,
        "device": str(device),
        "config": cfg,
        "resumed_at": [],
        "init_encoder": str(init_encoder) if init_encoder else None,
    }
    best = {"valid_accuracy": -1.0, "valid_loss": np.inf, "epoch": 0, "state": None}
    elapsed_before = 0.0
    if checkpoint and Path(checkpoint).exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        if saved["identity"] == identity:
            model.load_state_dict(saved["model"])
            optimiser.load_state_dict(saved["optimiser"])
            _restore_rng(rng, saved["rng"])
            history, best, elapsed_before = saved["history"], saved["best"], saved["elapsed"]
            history["resumed_at"].append(len(history["epochs"]))
            print(f"resumed from {checkpoint} after epoch {len(history['epochs'])}", file=sys.stderr)
    started = time.perf_counter() - elapsed_before
    quiet = not sys.stderr.isatty()
    first = len(history["epochs"]) + 1
    stopped = first > 1 and first - 1 - best["epoch"] >= cfg["patience"]
    epochs = tqdm(
        range(first, cfg["max_epochs"] + 1 if not stopped else first),
        desc="epochs",
        initial=first - 1,
        total=cfg["max_epochs"],
        disable=not progress,
        mininterval=30 if quiet else 0.1,
    )
    for epoch in epochs:
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches = length_batches(train.lengths, cfg["batch_size"], rng)
        for rows in tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=not progress or quiet):
            loss, logits, y = _train_batch(model, optimiser, train, rows, cfg, device)
            total_loss += loss * len(rows)
            correct += int((logits.argmax(1).cpu() == y).sum())
            seen += len(rows)
        valid_loss, valid_acc = _evaluate_split(model, valid, device, cfg["batch_size"] * 2)
        history["epochs"].append(
            {
                "epoch": epoch,
                "train_loss": total_loss / seen,
                "train_accuracy": correct / seen,
                "valid_loss": valid_loss,
                "valid_accuracy": valid_acc,
                "seconds": time.perf_counter() - started,
            }
        )
        epochs.set_postfix(train_loss=f"{total_loss / seen:.3f}", valid_acc=f"{valid_acc:.3f}")
        if not progress or quiet:
            print(
                f"epoch {epoch}: train loss {total_loss / seen:.4f} acc {correct / seen:.3f} | "
                f"valid loss {valid_loss:.4f} acc {valid_acc:.3f}",
                file=sys.stderr,
                flush=True,
            )
        if (valid_acc, -valid_loss) > (best["valid_accuracy"], -best["valid_loss"]):
            best = {
                "valid_accuracy": valid_acc,
                "valid_loss": valid_loss,
                "epoch": epoch,
                "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            }
        if checkpoint:
            _save_checkpoint(
                checkpoint, identity, model, optimiser, rng, history, best, time.perf_counter() - started
            )
        if epoch - best["epoch"] >= cfg["patience"]:
            break
    model.load_state_dict(best["state"])
    history.update(
        train_seconds=time.perf_counter() - started,
        epochs_run=len(history["epochs"]),
        best_epoch=best["epoch"],
        best_valid_accuracy=best["valid_accuracy"],
        peak_memory_mb=peak_memory_mb(device),
        mean_train_steps=float(train.lengths.mean()),
    )
    return model, history


def save_model(model: nn.Module, ds: Dataset, model_config: dict, path: str | os.PathLike) -> None:
    buffer = io.BytesIO()
    torch.save(
        {
            "model_config": model_config,
            "kind": ds.kind,
            "classes": ds.classes,
            "n_inputs": ds.vocab_size if ds.kind == "tokens" else ds.n_channels,
            "state_dict": model.state_dict(),
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
