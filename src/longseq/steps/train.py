"""Train a classifier for a budget of optimiser updates, early-stopped on valid.

The test split is never touched here: model selection (the best evaluation) uses valid alone.
Same data, config, seed and thread count give the same numbers on CPU.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..core import kernels
from ..core.data import DataError, Dataset, Split, TrainingDiverged, atomic_write_bytes, dataset_digest
from ..core.fingerprint import code_of
from ..core.runtime import (
    available_bytes,
    flush_denormals,
    memory_record,
    pick_device,
    prefetched,
    seed_everything,
    uses_autocast,
)
from ..core.settings import ModelConfig, TrainConfig, as_dict, check_run
from ..models import build_model
from ..models._front_end import layer_stride
from ..reducers import draw, draw_split
from .batches import average_views, collate, length_batches, predict_proba, to_device
from .saved import init_from_encoder
from .tbptt import last_k_batch, tbptt_batch

# A valid loss must fall by more than this to count as better (within it, higher accuracy
# decides): a run at 1e-5 loss would otherwise "improve" to 1e-6 until its budget ran out.
MIN_DELTA = 1e-4


# A training loss above this many times a uniform guess's (ln of the number of classes) is an
# explosion even while finite: a healthy run starts near 1x and falls. Some CPUs' kernels keep a
# blown-up LSTM's loss finite (about 1e30 at lr 1e30 on an AVX-512/AMX machine) where others
# turn it into NaN, so a finite bound is what stops such runs on every machine.
EXPLODED = 100


def explosion_bound(n_classes: int) -> float:
    return EXPLODED * math.log(max(2, n_classes))


def diverged(
    where: str, loss: float, run: dict, seed: int, cfg: TrainConfig, bound: float
) -> TrainingDiverged:
    what = "not finite" if not math.isfinite(loss) else f"above {bound:.3g} ({EXPLODED} x a uniform guess's)"
    return TrainingDiverged(
        f"{where}: training diverged: the loss is {loss}, {what}, at update {run['updates']} (epoch {run['epoch']}, "
        f"seed {seed}); no model was written (a search trial is recorded as failed). Try a lower lr "
        f"(now {cfg.lr}), a smaller "
        f"grad_clip (now {cfg.grad_clip}), or, for signals spanning orders of magnitude, "
        "model: {scaling: robust} or {scaling: log}"
    )


def _valid_scores(model, split, device, batch_size) -> tuple[float, float]:
    probs, labels = average_views(predict_proba(model, split, batch_size), split)
    loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())
    return loss, float((probs.argmax(1) == labels).mean())


def host_batch(train: Split, rows: np.ndarray, pin: bool):
    """One batch padded on the host (page-locked for a GPU): what the prefetch thread builds."""
    x, lengths = collate(train, rows, torch.device("cpu"), pin=pin)
    y = torch.from_numpy(train.labels[rows].astype(np.int64))
    return rows, x, lengths, y.pin_memory() if pin else y


def train_batch(
    model, step, batch, cfg: TrainConfig, device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One batch in the arm's training mode; `step` clips and applies the gradients (an
    optimiser update). Returns (mean loss, logits, labels), all on the device and unread, so
    that the host never waits for the device inside an epoch."""
    _, x, lengths, y = batch
    y = y.to(device, non_blocking=True)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=uses_autocast(cfg, device))
    if cfg.mode == "bptt":
        with autocast:
            logits = model(to_device(x, device), lengths.to(device, non_blocking=True))
            loss = nn.functional.cross_entropy(logits.float(), y)
        loss.backward()
        step()
        return loss.detach(), logits.detach(), y
    # truncated modes keep the batch on the host and move one chunk at a time
    with autocast:
        if cfg.mode == "tbptt":
            loss, logits = tbptt_batch(
                model, x, lengths, y, cfg.k1, cfg.gradient_window, step, device, cfg.aux_weight
            )
            return loss, logits, y
        loss, logits = last_k_batch(model, x, lengths, y, cfg.k, device)
    loss.backward()
    step()
    return loss.detach(), logits.detach(), y


def learning_rate_factor(update: int, cfg: TrainConfig) -> float:
    """Linear warm-up over `warmup` updates, then (cosine) decay to 1/20 at `max_updates`:
    large steps while the loss is on its plateau, small ones to settle into a minimum."""
    if update < cfg.warmup:
        return (update + 1) / cfg.warmup
    if cfg.schedule == "constant":
        return 1.0
    progress = min(1.0, (update - cfg.warmup) / max(1, cfg.max_updates - cfg.warmup))
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))


def _rng_state() -> dict:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
    }


def _restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    random.setstate(state["python"])


def _save_checkpoint(path, identity, model, optimiser, scheduler, run, history, best) -> None:
    buffer = io.BytesIO()
    torch.save(
        {
            "identity": identity,
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(),
            "run": run,
            "history": history,
            "best": best,
        },
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def pretraining_cost(init_encoder) -> dict | None:
    """What the encoder this run starts from cost (its history beside it): counted in the run's
    own cost, whole, even when its seeds share it, since a user running one seed pays it all."""
    history = Path(init_encoder).with_name("history.json") if init_encoder else None
    if history is None or not history.exists():
        return None
    saved = json.loads(history.read_text())
    objective = saved.get("config", {}).get("objective", "autoencoder")
    return {
        "objective": objective,
        "seconds": saved["train_seconds"],
        "steps_read": saved.get("steps_read", 0),
    }


def check_memory(
    train: Split, cfg: TrainConfig, model_cfg: ModelConfig, device: torch.device, where: str
) -> None:
    """Refuse, before training, a batch whose activations cannot fit: full BPTT keeps every
    step's gates and outputs (about 5 x hidden + the input width floats per step and row; a
    learned summarizer's LSTM one step in `stride`, its first convolution's outputs, normalised
    and rectified, 3 x channels per first-layer stride) for the backward pass, over the longest
    batch (padded to its longest record). Truncated modes keep only k2 (or k) steps, so they are
    bounded whatever the length."""
    longest = int(train.lengths.max())
    steps = {"bptt": longest, "tbptt": min(longest, cfg.gradient_window), "last_k": min(longest, cfg.k)}[
        cfg.mode
    ]
    options = model_cfg.options
    recurrent = 5 * options.get("hidden", 0) * options.get("layers", 1) / options.get("stride", 1)
    front = (
        3 * options["channels"] / layer_stride(options["stride"], options["conv_layers"])
        if "channels" in options
        else 0
    )
    # s4d: every layer keeps its normalised input, convolution, GELU, dropout and GLU outputs at
    # full resolution, about 13 x hidden floats per step and row (1.7 GB at B 32, T 4,096, hidden 64, 4 layers)
    ssm = 13 * options["hidden"] * options["layers"] if "state" in options else 0
    per_step = 4 * (recurrent + front + ssm + model_cfg.embedding)
    need = min(cfg.batch_size, len(train)) * steps * per_step
    have = available_bytes(device)
    if need > 0.8 * have:
        row = int(train.origin[int(np.argmax(train.lengths))])
        raise DataError(
            f"{where}: record {row} has {longest:,} steps; training a batch of {cfg.batch_size} such "
            f"records with {cfg.mode} needs about {need / 2**30:,.1f} GB for the backward pass, more "
            f"than this {device.type} has ({have / 2**30:,.1f} GB). Use an arm that shortens the "
            "sequences (truncate, summarize, sample), train.mode: tbptt or last_k (memory bounded by "
            "k2 or k), or a smaller batch_size"
        )


def checkpoint_code_digest() -> str:
    """A digest of the package code this process runs (every longseq module loaded), so that a
    checkpoint written by other code is not resumed (read as `fingerprint.code_of`: a reformatted
    module is the same code)."""
    digest = hashlib.sha256()
    for name in sorted(n for n in sys.modules if n == "longseq" or n.startswith("longseq.")):
        path = getattr(sys.modules[name], "__file__", None)
        if path:
            digest.update(name.encode() + code_of(Path(path)))
    return digest.hexdigest()[:16]


def epoch_batches(train: Split, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """An epoch's batches, drawn from (seed, epoch) alone, so a resumed run finds the same ones."""
    return length_batches(train.lengths, batch_size, np.random.default_rng([seed, epoch]))


class Training:
    """One run: what it trains, where it stands (updates, epoch, batch within it, steps read)
    and what it has recorded. `train_model` drives it: set up, resume, epochs, summary."""

    def __init__(self, ds, model_cfg, cfg, seed, device, init_encoder, progress, where) -> None:
        self.ds, self.model_cfg, self.cfg, self.seed, self.device = ds, model_cfg, cfg, seed, device
        self.where = where
        flush_denormals()
        seed_everything(seed, device)
        run_data = draw(ds, seed, epoch=1)
        self.train, self.valid = run_data.splits["train"], run_data.splits["valid"]
        steps = int(self.train.lengths.max())
        self.model = build_model(run_data, model_cfg, steps)
        if cfg.mode != "bptt" and not hasattr(self.model, "run"):  # truncated modes read chunk by chunk
            raise ValueError(
                f"training mode {cfg.mode!r} needs an LSTM model that reads in chunks "
                f"(lstm, seq2seq, conv_lstm), not {model_cfg.type!r}"
            )
        check_run(model_cfg, cfg)
        check_memory(self.train, cfg, model_cfg, device, where)
        self.model.fit_normalisation(self.train)
        if init_encoder:
            init_from_encoder(self.model, run_data, init_encoder)
        self.model.to(device)
        groups = getattr(self.model, "parameter_groups", None)  # e.g. s4d: its A and dt at their own rate
        params = groups(cfg.lr, cfg.weight_decay) if groups else self.model.parameters()
        self.optimiser = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimiser, lambda u: learning_rate_factor(u, cfg)
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        self.identity = {
            "model": as_dict(model_cfg),
            "train": as_dict(cfg),
            "seed": seed,
            "data": dataset_digest(ds),
            "code": checkpoint_code_digest(),
            "init": str(init_encoder),
        }
        self.history = self.first_history(steps, init_encoder)
        self.best = {"valid_loss": np.inf, "valid_accuracy": -1.0, "update": 0, "state": None}
        self.run = {"updates": 0, "epoch": 1, "batch": 0, "steps_read": 0, "seconds": 0.0, "stopped_by": None}
        self.progress, self.quiet = progress, not sys.stderr.isatty()
        self.window = self.fresh_window()
        self.bound = explosion_bound(len(ds.classes))

    def first_history(self, steps: int, init_encoder) -> dict:
        """What the run records before its first update: its settings (as its identity holds
        them: each converted once), its start, the CPU and kernel settings its numbers came from."""
        model_cfg, cfg, device = self.model_cfg, self.cfg, self.device
        return {
            "evaluations": [],
            "seed": self.seed,
            "device": str(device),
            "kernels": kernels.record(),
            "config": self.identity["train"],
            "model": self.identity["model"],
            "init": {
                "scheme": model_cfg.options.get("init"),
                "steps": steps,
                "encoder": str(init_encoder) if init_encoder else None,
            },
            "pretraining": pretraining_cost(init_encoder),
            "scaling": model_cfg.scaling if self.ds.kind == "signal" else None,
            "precision": "bfloat16 autocast" if uses_autocast(cfg, device) else "float32",
            "resumed_at": [],
        }

    def start(self, checkpoint) -> None:
        """Resume from `checkpoint` if it holds this run, start the clock and the progress bar."""
        if checkpoint and Path(checkpoint).exists():
            self.resume(checkpoint)
        self.started = time.perf_counter() - self.run["seconds"]
        self.bar = tqdm(
            total=self.cfg.max_updates,
            initial=self.run["updates"],
            desc="updates",
            disable=not self.progress,
            mininterval=30 if self.quiet else 0.1,
        )
        self.model.train()
        self.optimiser.zero_grad(set_to_none=True)

    def resume(self, checkpoint) -> None:
        """Continue from a checkpoint of this very run; one of another run is left alone."""
        saved = torch.load(checkpoint, map_location=self.device, weights_only=True)
        mine, theirs = self.identity, saved["identity"]
        if theirs != mine:
            differs = [key for key in mine if theirs.get(key) != mine[key]]
            print(
                f"{checkpoint} is of another run (its {' and '.join(differs)} differs); starting afresh",
                file=sys.stderr,
            )
            return
        self.model.load_state_dict(saved["model"])
        self.optimiser.load_state_dict(saved["optimiser"])
        self.scheduler.load_state_dict(saved["scheduler"])
        _restore_rng(saved["rng"])
        self.history, self.best, self.run = saved["history"], saved["best"], saved["run"]
        self.history["resumed_at"].append(self.run["updates"])
        print(f"resumed from {checkpoint} after update {self.run['updates']}", file=sys.stderr)

    def fresh_window(self) -> dict:
        """Training figures since the last evaluation, summed on the device, read at evaluations."""
        return {
            "loss": torch.zeros((), device=self.device),
            "correct": torch.zeros((), device=self.device),
            "seen": 0,
        }

    def step(self) -> None:
        """One optimiser update, unless the budget is spent (TBPTT may ask mid-batch)."""
        if self.run["updates"] < self.cfg.max_updates:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            self.optimiser.step()
            self.scheduler.step()
            self.run["updates"] += 1
            self.bar.update(1)
        self.optimiser.zero_grad(set_to_none=True)

    def epoch(self, checkpoint) -> None:
        """The rest of the current epoch, evaluating (and checkpointing) every `eval_every`
        updates; stops early when an evaluation says so."""
        cfg, run, device, window = self.cfg, self.run, self.device, self.window
        epoch_train = (
            self.train if run["epoch"] == 1 else draw_split(self.ds, "train", self.seed, run["epoch"])
        )
        batches = epoch_batches(epoch_train, cfg.batch_size, self.seed, run["epoch"])
        pin = device.type == "cuda"
        built = (host_batch(epoch_train, batches[i], pin) for i in range(run["batch"], len(batches)))
        for index, batch in enumerate(prefetched(built) if pin else built, start=run["batch"]):
            rows = batch[0]
            before = run["updates"]
            loss, logits, y = train_batch(self.model, self.step, batch, cfg, device)
            if device.type == "cpu" and not float(loss) <= self.bound:  # free on CPU: stop at once
                raise diverged(self.where, float(loss), run, self.seed, cfg, self.bound)
            window["loss"] += loss.float() * len(rows)
            window["correct"] += (logits.argmax(1) == y).sum()
            window["seen"] += len(rows)
            run["steps_read"] += int(epoch_train.lengths[rows].sum())
            run["batch"] = index + 1
            crossed = run["updates"] // cfg.eval_every > before // cfg.eval_every
            if crossed or run["updates"] >= cfg.max_updates:
                stop = self.validate()
                if checkpoint:
                    run["seconds"] = time.perf_counter() - self.started
                    _save_checkpoint(
                        checkpoint,
                        self.identity,
                        self.model,
                        self.optimiser,
                        self.scheduler,
                        run,
                        self.history,
                        self.best,
                    )
                if stop:
                    return
        run["epoch"], run["batch"] = run["epoch"] + 1, 0

    def validate(self) -> bool:
        """Record a check on valid, keep the best weights; True when the run should stop."""
        cfg, run, best, window = self.cfg, self.run, self.best, self.window
        mean_loss = float(window["loss"]) / max(1, window["seen"])
        if not mean_loss <= self.bound:  # on CUDA the loss is read here, not per batch
            raise diverged(self.where, mean_loss, run, self.seed, cfg, self.bound)
        valid_loss, valid_acc = _valid_scores(self.model, self.valid, self.device, cfg.batch_size * 2)
        self.model.train()
        entry = {
            "update": run["updates"],
            "epoch": run["epoch"],
            "train_loss": float(window["loss"]) / max(1, window["seen"]),
            "train_accuracy": float(window["correct"]) / max(1, window["seen"]),
            "valid_loss": valid_loss,
            "valid_accuracy": valid_acc,
            "lr": self.optimiser.param_groups[0]["lr"],
            "steps_read": run["steps_read"],
            "seconds": time.perf_counter() - self.started,
        }
        self.history["evaluations"].append(entry)
        window.update(self.fresh_window())
        lower = valid_loss < best["valid_loss"] - MIN_DELTA
        tie = abs(valid_loss - best["valid_loss"]) <= MIN_DELTA and valid_acc > best["valid_accuracy"]
        if lower or tie:
            best.update(
                valid_loss=valid_loss,
                valid_accuracy=valid_acc,
                update=run["updates"],
                state={k: v.detach().clone() for k, v in self.model.state_dict().items()},
            )
        if not self.progress or self.quiet:
            print(
                f"update {run['updates']} (epoch {run['epoch']}): train loss {entry['train_loss']:.4f} "
                f"acc {entry['train_accuracy']:.3f} | valid loss {valid_loss:.4f} acc {valid_acc:.3f} "
                f"| lr {entry['lr']:.2e}",
                file=sys.stderr,
                flush=True,
            )
        since_best = sum(e["update"] > best["update"] for e in self.history["evaluations"])
        if run["updates"] >= cfg.max_updates:
            run["stopped_by"] = "budget"
        elif run["updates"] >= cfg.min_updates and since_best >= cfg.patience:
            run["stopped_by"] = "patience"
        return run["stopped_by"] is not None

    def summary(self) -> dict:
        """The history with the run's totals, after the best weights are put back."""
        self.model.load_state_dict(self.best["state"])
        run, best = self.run, self.best
        self.history.update(
            train_seconds=time.perf_counter() - self.started,
            updates=run["updates"],
            epochs=run["epoch"] - (run["batch"] == 0),
            steps_read=run["steps_read"],
            stopped_by=run["stopped_by"],
            best_update=best["update"],
            best_valid_loss=best["valid_loss"],
            best_valid_accuracy=best["valid_accuracy"],
            # the best point was the last evaluation: more budget would likely have helped
            still_improving=best["update"] == self.history["evaluations"][-1]["update"],
            **memory_record(self.device),
            mean_train_steps=float(self.train.lengths.mean()),
        )
        return self.history


def train_model(
    ds: Dataset,
    model_config: dict,
    train_config: dict,
    seed: int,
    device: torch.device | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    init_encoder: str | os.PathLike | None = None,
    where: str = "training",
) -> tuple[nn.Module, dict]:
    """Fit on the train split for at most `max_updates` optimiser updates, evaluating on valid
    every `eval_every` updates; keep the weights of the evaluation with the lowest valid loss
    (accuracy breaks ties) and stop once `patience` evaluations in a row bring none lower
    (never before `min_updates`). Returns the model and its history: every evaluation, the
    updates, steps read and wall time spent, and whether the run was still improving when the
    budget ended it (its best evaluation was its last).

    With `checkpoint`, the whole training state is written there atomically at every
    evaluation, and a run that finds a checkpoint of the same settings resumes from it: a
    killed job that is retried ends with the numbers of one that was never interrupted (on
    CPU). With `init_encoder`, the embedding/scaling and LSTM start from a pretrained sequence
    autoencoder (see longseq.steps.pretrain)."""
    cfg = TrainConfig.from_dict(train_config)
    device = device or pick_device()
    t = Training(ds, ModelConfig.from_dict(model_config), cfg, seed, device, init_encoder, progress, where)
    t.start(checkpoint)
    while t.run["stopped_by"] is None:
        t.epoch(checkpoint)
    t.bar.close()
    return t.model, t.summary()
