"""Unsupervised pretraining on the train split only, two objectives (`objective:`).

autoencoder, the sequence autoencoder of Dai & Le (2015): an encoder (the classifier's own embedding/normalisation and LSTM) reads a window of a
sequence; a decoder LSTM, started from the encoder's last valid output, reconstructs the window
step by step from the previous element (teacher forcing): cross-entropy for tokens, mean squared
error on normalised values for signals. The encoder's weights then initialise a classifier.

Windows of `window` steps are cut at random from every training record (`windows_per_record`
of them, seeded), so pretraining cost does not grow with the full sequence length; the valid
split gets one window per record and picks the best epoch.

next_token, self-pretraining as Amos, Berant & Gupta (2024) do it: the classifier's own
embedding (or scaling) and LSTM read the whole record (a window at least as long as the
longest) and a linear layer predicts each next token from the outputs so far (the next
normalised value, by squared error, for signals); they found next-token and masked objectives
about equally good, and a causal LSTM has next-token for free. With a `seed` in its settings a
pretraining is one job that every seed of its arms starts from.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from torch import nn

from ..core import kernels
from ..core.data import Dataset, Split, TrainingDiverged, token_ranks
from ..core.runtime import flush_denormals, peak_memory_mb, seed_everything
from ..core.settings import PRETRAIN_DEFAULTS, ModelConfig, check_pretraining
from ..models import build_model
from ..models.lstm import LSTMClassifier
from .batches import collate, length_batches


class SequenceAutoencoder(nn.Module):
    """Encoder + decoder. For tokens the decoder predicts one of the `target_vocab` - 1 most
    frequent train tokens or a shared "rarer token" class: a softmax over a 20k vocabulary at
    every step would cost more than everything else in the study put together."""

    def __init__(self, encoder: LSTMClassifier, n_inputs: int, target_of: torch.Tensor | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        width = encoder.lstm.input_size
        hidden = encoder.lstm.hidden_size
        self.decoder = nn.LSTM(width, hidden, batch_first=True)
        self.register_buffer(
            "target_of", target_of if target_of is not None else torch.zeros(0, dtype=torch.long)
        )
        self.out = nn.Linear(hidden, int(self.target_of.max()) + 1 if target_of is not None else n_inputs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Per-step reconstruction outputs [B, T, n_inputs]."""
        h = self.encoder.inputs(x)
        out, _ = self.encoder.lstm(h)
        summary = out[torch.arange(len(x), device=x.device), lengths - 1]  # last valid output
        previous = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        state = (summary[None].contiguous(), torch.zeros_like(summary)[None].contiguous())
        decoded, _ = self.decoder(previous, state)
        return self.out(decoded)

    def loss(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        predicted = self(x, lengths)
        valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
        if self.encoder.kind == "tokens":
            return nn.functional.cross_entropy(predicted[valid], self.target_of[x[valid]])
        target = self.encoder.inputs(x)
        return ((predicted - target)[valid] ** 2).mean()


class NextStep(nn.Module):
    """What follows each output, predicted from it. The plain LSTM's output at step t predicts
    step t + 1. The learned summarizer's front end is causal, so its LSTM's output at summary t
    has read steps < (t + 1) * stride only, and predicts the `stride` steps of summary t + 1
    (one linear layer, all of them at once): next-token self-pretraining of the whole arm."""

    def __init__(self, encoder: LSTMClassifier, n_inputs: int, target_of: torch.Tensor | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.register_buffer(
            "target_of", target_of if target_of is not None else torch.zeros(0, dtype=torch.long)
        )
        self.outputs = int(self.target_of.max()) + 1 if target_of is not None else n_inputs
        self.stride = encoder.stride
        self.out = nn.Linear(encoder.lstm.hidden_size, self.outputs * self.stride)

    def loss(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.encoder.inputs(x)
        if self.encoder.front is None:
            out, _ = self.encoder.lstm(h)
        else:
            out, _ = self.encoder.lstm(self.encoder.front(h, None, lengths)[0])
        s, span = self.stride, out.shape[1] * self.stride
        ahead = torch.arange(s, span, device=x.device).view(-1, s)  # the steps output t predicts
        used = ahead[None, :, 0] < lengths[:, None]  # [B, S - 1]: outputs with a valid step ahead
        within = (ahead[None] < lengths[:, None, None])[used]  # [N, s]: which of those are valid
        predicted = self.out(out[:, :-1][used]).view(-1, s, self.outputs)[within]
        if self.encoder.kind == "tokens":
            following = _padded(x, span)[:, s:].reshape(len(x), -1, s)[used][within]
            return nn.functional.cross_entropy(predicted, self.target_of[following])
        following = _padded(h, span)[:, s:].reshape(len(x), -1, s, h.shape[2])[used][within]
        return ((predicted - following) ** 2).mean()


def _padded(x: torch.Tensor, steps: int) -> torch.Tensor:
    """x [B, T, ...] padded with zeros to `steps` steps (the front end reads a multiple of its
    stride); the padding is never a target."""
    return torch.cat([x, x.new_zeros(x.shape[0], steps - x.shape[1], *x.shape[2:])], dim=1)


OBJECTIVES = {"autoencoder": SequenceAutoencoder, "next_token": NextStep}


def cut_windows(split: Split, window: int, per_record: int, rng: np.random.Generator) -> Split:
    """`per_record` random windows of at most `window` steps from every record, in order."""
    pieces, labels = [], []
    for i in range(len(split)):
        seq = split[i]
        for _ in range(per_record):
            start = int(rng.integers(0, max(1, len(seq) - window + 1)))
            pieces.append(np.asarray(seq[start : start + window]))
            labels.append(split.labels[i])
    return Split.from_sequences(pieces, labels, dtype=split.values.dtype)


def _mean_loss(model: nn.Module, split: Split, batch_size: int, device) -> float:
    model.eval()
    total, seen = 0.0, 0
    with torch.no_grad():
        for rows in length_batches(split.lengths, batch_size, None):
            x, lengths = collate(split, rows, device)
            total += model.loss(x, lengths).item() * len(rows)
            seen += len(rows)
    return total / seen


def objective_model(ds: Dataset, model_config: dict, cfg: dict, train: Split) -> nn.Module:
    """The objective's model around its encoder: a plain LSTM classifier (or the learned
    summarizer, `encoder: conv_lstm`) of the study's sizes (study-wide options of other types
    dropped); its normalisation and token targets are fitted
    on the train windows."""
    check_pretraining(cfg)
    settings = ModelConfig.inherit({**model_config, "type": cfg["encoder"], "readout": "last"}, {})
    encoder = build_model(ds, settings, steps=cfg["window"])
    encoder.fit_normalisation(train)
    n_inputs = ds.vocab_size if ds.kind == "tokens" else ds.n_channels
    target_of = None
    if ds.kind == "tokens":  # frequency ranks on the train windows; rarer tokens share a class
        ranks = torch.from_numpy(token_ranks(train, ds.vocab_size))
        target_of = ranks.clamp(max=min(cfg["target_vocab"], ds.vocab_size) - 1)
    return OBJECTIVES[cfg["objective"]](encoder, n_inputs, target_of)


def _train_epoch(model, optimiser, train: Split, cfg: dict, rng, device) -> tuple[torch.Tensor, int]:
    """One pass over the train windows; the summed loss stays on the device (no wait per batch)."""
    model.train()
    total, seen = torch.zeros((), device=device), 0
    for rows in length_batches(train.lengths, cfg["batch_size"], rng):
        x, lengths = collate(train, rows, device)
        optimiser.zero_grad(set_to_none=True)
        loss = model.loss(x, lengths)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        optimiser.step()
        total += loss.detach() * len(rows)
        seen += len(rows)
    return total, seen


def pretrain_encoder(
    ds: Dataset,
    model_config: dict,
    pretrain_config: dict,
    device: torch.device,
    progress: bool = True,
    seed: int = 0,
    where: str = "pretraining",
) -> tuple[dict, dict]:
    """Fit the autoencoder on train windows; return the best encoder's state and a history.
    The seed is the run's: it draws the windows and the encoder's start, so every seed of a
    pretrained arm starts from an encoder of its own."""
    cfg = {**PRETRAIN_DEFAULTS, **pretrain_config}
    seed = cfg.get("seed", seed)  # a shared pretraining: its own seed, whichever run asks
    flush_denormals()
    seed_everything(seed, device)
    rng = np.random.default_rng(seed)
    train = cut_windows(ds.splits["train"], cfg["window"], cfg["windows_per_record"], rng)
    valid = cut_windows(ds.splits["valid"], cfg["window"], 1, rng)
    model = objective_model(ds, model_config, cfg, train).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    history = {"epochs": [], "config": cfg, "seed": seed, "device": str(device), "kernels": kernels.record()}
    history.update(train_windows=len(train), steps_read=0)
    best = {"loss": np.inf, "epoch": 0, "state": None}
    started = time.perf_counter()
    for epoch in range(1, cfg["max_epochs"] + 1):
        total, seen = _train_epoch(model, optimiser, train, cfg, rng, device)
        history["steps_read"] += int(train.lengths.sum())
        valid_loss = _mean_loss(model, valid, cfg["batch_size"] * 2, device)
        if not (torch.isfinite(total) and np.isfinite(valid_loss)):  # else no best state to save
            raise TrainingDiverged(
                f"{where}: pretraining diverged: train loss {float(total) / seen}, valid loss {valid_loss} in "
                f"epoch {epoch} (seed {seed}); no encoder was written. Try a lower lr (now {cfg['lr']}) "
                f"or a smaller grad_clip (now {cfg['grad_clip']}) in the pretrain settings"
            )
        train_loss, seconds = float(total) / seen, time.perf_counter() - started
        history["epochs"].append(
            {"epoch": epoch, "train_loss": train_loss, "valid_loss": valid_loss, "seconds": seconds}
        )
        if progress:
            print(
                f"pretrain epoch {epoch}: train loss {train_loss:.4f} | valid loss {valid_loss:.4f}",
                file=sys.stderr,
            )
        if valid_loss < best["loss"]:
            best = {
                "loss": valid_loss,
                "epoch": epoch,
                "state": {k: v.detach().cpu().clone() for k, v in model.encoder.state_dict().items()},
            }
        elif epoch - best["epoch"] >= cfg["patience"]:
            break
    history.update(
        train_seconds=time.perf_counter() - started,
        best_epoch=best["epoch"],
        best_valid_loss=best["loss"],
        peak_memory_mb=peak_memory_mb(device),
    )
    return best["state"], history
