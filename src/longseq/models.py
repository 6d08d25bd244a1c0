"""The LSTM classifier and the code that feeds it variable-length batches.

Batches are bucketed by length and padded at the end; the classifier reads the output at each
sequence's last *valid* step. For a unidirectional LSTM the output at step t depends only on
steps <= t, so this equals running each sequence alone, while staying on the fused
(cuDNN / oneDNN) kernel: packed sequences leave that kernel on CPU and run ~25x slower there.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .data import PAD_ID, Dataset, Split
from .settings import ModelConfig


class StepInputs(nn.Module):
    """What every model reads at a step. Tokens: an embedding (k parallel streams embedded side
    by side, [B, T, k] -> [B, T, k * E]). Signals: values scaled per channel with statistics
    fitted on the train split only (`fit`): `standard` (mean, std), `robust` (median, IQR: a
    few huge bursts do not set the scale) or `log` (sign(x) * log1p|x|, then standard), for
    readings that span orders of magnitude, such as ACSF1's power: long idle stretches and
    bursts thousands of times larger."""

    SCALINGS = ("standard", "robust", "log")

    def __init__(
        self, kind: str, n_inputs: int, embedding: int = 32, streams: int = 1, scaling: str = "standard"
    ) -> None:
        super().__init__()
        if scaling not in self.SCALINGS:
            raise ValueError(f"unknown scaling {scaling!r}; use one of {self.SCALINGS}")
        self.kind, self.scaling = kind, scaling
        if kind == "tokens":
            self.embed = nn.Embedding(n_inputs, embedding, padding_idx=PAD_ID)
            self.width = embedding * streams
        else:
            self.embed = None
            self.width = n_inputs
        self.register_buffer("center", torch.zeros(n_inputs if kind != "tokens" else 0))
        self.register_buffer("scale", torch.ones(n_inputs if kind != "tokens" else 0))

    def _log(self, x):
        return torch.sign(x) * torch.log1p(x.abs()) if self.scaling == "log" else x

    def fit(self, train: Split) -> None:
        if self.kind == "tokens":
            return
        values = np.asarray(train.values, dtype=np.float64)
        if self.scaling == "log":
            values = np.sign(values) * np.log1p(np.abs(values))
        if self.scaling == "robust":
            low, center, high = np.percentile(values, [25, 50, 75], axis=0)
            scale = (high - low) / 1.349  # the IQR of a normal distribution is 1.349 std
        else:
            center, scale = values.mean(axis=0), values.std(axis=0)
        self.center.copy_(torch.from_numpy(np.asarray(center)).float())
        self.scale.copy_(torch.from_numpy(np.asarray(scale)).float().clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is None:
            return (self._log(x) - self.center) / self.scale
        h = self.embed(x)
        return h.flatten(2) if x.dim() == 3 else h


class LSTMClassifier(nn.Module):
    """Embedding (tokens) or normalised linear input (signals) -> nn.LSTM -> last valid step -> linear."""

    def __init__(
        self,
        kind: str,
        n_inputs: int,
        n_classes: int,
        cfg: ModelConfig = ModelConfig(),
        streams: int = 1,
        steps: int | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        self.lstm = nn.LSTM(
            self.inputs.width,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        init_lstm(self.lstm, cfg.init, steps, cfg.forget_bias)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def run(self, x: torch.Tensor, state=None):
        """LSTM outputs [B, T, H] for a (chunk of a) batch, and the state after its last step."""
        return self.lstm(self.inputs(x), state)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.run(x)
        return self.classify(out[torch.arange(out.shape[0], device=out.device), lengths - 1])

    @torch.no_grad()
    def predict_logits(
        self, x: torch.Tensor, lengths: torch.Tensor, chunk: int | None = None
    ) -> torch.Tensor:
        """Logits read in chunks of `chunk` steps carrying the state, so that memory stays
        bounded for very long sequences; `x` may stay on the CPU (each chunk moves on its own)."""
        device = self.head.weight.device
        if chunk is None or x.shape[1] <= chunk:
            return self(x.to(device), lengths.to(device))
        last = torch.zeros(x.shape[0], self.head.in_features, device=device, dtype=self.head.weight.dtype)
        state = None
        for start in range(0, x.shape[1], chunk):
            out, state = self.run(x[:, start : start + chunk].to(device), state)
            ends_here = ((lengths - 1 >= start) & (lengths - 1 < start + out.shape[1])).to(device)
            rows = ends_here.nonzero().squeeze(1)
            last[rows] = out[rows, (lengths.to(device)[rows] - 1 - start)]
        return self.classify(last)


class Seq2SeqClassifier(LSTMClassifier):
    """Encoder-decoder form: the encoder LSTM reads the sequence, and a decoder LSTM cell,
    started from the encoder's last valid output (cell state zero, as in longseq.pretrain),
    takes one learned start input and emits the label, a target sequence of length one.
    Shares `run` with the plain classifier, so every training mode and a pretrained encoder
    apply to it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hidden = self.lstm.hidden_size
        self.start = nn.Parameter(torch.zeros(hidden))
        self.decoder = nn.LSTMCell(hidden, hidden)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        h, _ = self.decoder(self.start.expand(len(features), -1), (features, torch.zeros_like(features)))
        return self.head(self.dropout(h))


def init_lstm(lstm: nn.LSTM, scheme: str = "chrono", steps: int | None = None, forget_bias: float = 1.0) -> None:
    """Initialise an LSTM for long inputs.

    chrono (Tallec & Ollivier 2018): forget-gate biases b_f = log(u), u ~ U(1, steps - 1), and
    input-gate biases -b_f, so that units keep their cell for 1 to `steps` steps at the start
    of training. A constant bias b keeps sigmoid(b) of the cell per step: sigmoid(1) = 0.73,
    and 0.73**100 = 2e-14, so evidence 100 steps back never reaches the loss. Recurrent weights
    start orthogonal (each gate's block), the usual companion. `steps`: the longest sequence
    the LSTM reads in training (None, e.g. when weights are about to be loaded: constant).
    constant: every forget-gate bias `forget_bias` (Jozefowicz et al. 2015), PyTorch's
    uniform weights."""
    hidden = lstm.hidden_size
    chrono = scheme == "chrono" and steps is not None and steps > 2
    if scheme not in ("chrono", "constant"):
        raise ValueError(f"unknown LSTM init {scheme!r}; use chrono or constant")
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("weight_hh") and scheme == "chrono":
                for gate in range(4):
                    nn.init.orthogonal_(param[gate * hidden : (gate + 1) * hidden])
            if name.startswith("bias_hh"):  # gate order: input, forget, cell, output
                param[: 2 * hidden].fill_(0.0)
            elif name.startswith("bias_ih"):
                if chrono:
                    forget = torch.log(torch.empty(hidden).uniform_(1, steps - 1))
                    param[hidden : 2 * hidden].copy_(forget)
                    param[:hidden].copy_(-forget)
                else:
                    param[hidden : 2 * hidden].fill_(forget_bias)


class BagClassifier(nn.Module):
    """The non-recurrent reference: order ignored, every step pooled.

    Tokens: embeddings averaged and max-pooled over the valid steps (fastText-like).
    Signals: normalised values and their squares, pooled by mean, max and min over time.
    Then one hidden layer and a linear output. If an LSTM arm cannot beat this, the order of
    the steps (or the LSTM's grip on it) is not what carries the label."""

    def __init__(
        self, kind: str, n_inputs: int, n_classes: int, cfg: ModelConfig = ModelConfig(), streams: int = 1
    ) -> None:
        super().__init__()
        self.kind = kind
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        width = self.inputs.width * (1 if kind == "tokens" else 2)  # signals: values and squares
        pooled = 2 * width if kind == "tokens" else 3 * width
        self.dropout = nn.Dropout(cfg.dropout)
        self.hidden = nn.Sequential(nn.Linear(pooled, cfg.hidden), nn.ReLU())
        self.head = nn.Linear(cfg.hidden, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.inputs(x)
        if self.kind != "tokens":
            h = torch.cat([h, h * h], dim=-1)
        valid = (torch.arange(h.shape[1], device=h.device)[None, :] < lengths[:, None])[..., None]
        mean = (h * valid).sum(1) / lengths[:, None].to(h.dtype)
        pools = [mean, h.masked_fill(~valid, float("-inf")).amax(1)]
        if self.kind != "tokens":
            pools.append(h.masked_fill(~valid, float("inf")).amin(1))
        return self.head(self.dropout(self.hidden(torch.cat(pools, dim=-1))))


def reverse_valid(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's valid steps in time, leaving its padding where it is."""
    steps = torch.arange(h.shape[1], device=h.device)[None, :]
    index = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return torch.gather(h, 1, index[..., None].expand_as(h))


class SegmentClassifier(nn.Module):
    """Each of k pieces (see the `parallel` reduction) is read by its own LSTM; the pieces'
    last outputs are concatenated for the linear head. With `reverse: alternate`, every other
    piece is read backwards: for two pieces, a forward LSTM reads the first half and a backward
    one reads the second half from the end, and both meet in the middle."""

    def __init__(
        self,
        kind: str,
        n_inputs: int,
        n_classes: int,
        pieces: int,
        cfg: ModelConfig = ModelConfig(),
        steps: int | None = None,
    ) -> None:
        super().__init__()
        self.kind, self.pieces, self.reverse = kind, pieces, cfg.reverse
        streams = pieces if kind == "tokens" else 1
        self.inputs = StepInputs(kind, n_inputs, cfg.embedding, streams, cfg.scaling)
        width = self.inputs.width // pieces
        self.lstms = nn.ModuleList(nn.LSTM(width, cfg.hidden, batch_first=True) for _ in range(pieces))
        for lstm in self.lstms:
            init_lstm(lstm, cfg.init, steps, cfg.forget_bias)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden * pieces, n_classes)

    def fit_normalisation(self, train: Split) -> None:
        self.inputs.fit(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.inputs(x)
        h = h.view(h.shape[0], h.shape[1], self.pieces, -1)  # [B, T, k, E or C]
        rows = torch.arange(x.shape[0], device=x.device)
        lasts = []
        for j, lstm in enumerate(self.lstms):
            piece = h[:, :, j]
            if self.reverse == "alternate" and j % 2 == 1:
                piece = reverse_valid(piece, lengths)
            out, _ = lstm(piece)
            lasts.append(out[rows, lengths - 1])
        return self.head(self.dropout(torch.cat(lasts, dim=-1)))


class ChunkEncoderClassifier(nn.Module):
    """A learned representation of the long sequence: an encoder LSTM (normally the pretrained
    sequence autoencoder's) compresses every window of `chunk` steps into its last output, and
    the classifier LSTM reads those T / chunk vectors. `freeze` keeps the encoder fixed."""

    def __init__(
        self,
        encoder: LSTMClassifier,
        n_classes: int,
        cfg: ModelConfig = ModelConfig(),
        steps: int | None = None,
    ) -> None:
        super().__init__()
        self.encoder, self.chunk, self.freeze = encoder, cfg.chunk, cfg.freeze
        self.lstm = nn.LSTM(encoder.lstm.hidden_size, cfg.hidden, batch_first=True)
        init_lstm(self.lstm, cfg.init, None if steps is None else -(-steps // cfg.chunk), cfg.forget_bias)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, n_classes)
        if cfg.freeze:
            self.encoder.requires_grad_(False)

    def fit_normalisation(self, train: Split) -> None:
        self.encoder.fit_normalisation(train)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        batch, steps = x.shape[:2]
        n_chunks = -(-steps // self.chunk)
        pad = n_chunks * self.chunk - steps
        if pad:
            x = torch.cat([x, x.new_zeros((batch, pad) + x.shape[2:])], dim=1)
        windows = x.reshape((batch * n_chunks, self.chunk) + x.shape[2:])
        # each window's own last valid step (full windows: chunk - 1; the last one: what is left)
        starts = torch.arange(n_chunks, device=x.device)[None, :] * self.chunk
        inside = (lengths[:, None] - starts).clamp(1, self.chunk).reshape(-1)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            out, _ = self.encoder.run(windows)
            summaries = out[torch.arange(len(windows), device=x.device), inside - 1]
        summaries = summaries.reshape(batch, n_chunks, -1)
        out, _ = self.lstm(summaries)
        last_chunk = (lengths - 1) // self.chunk
        return self.head(self.dropout(out[torch.arange(batch, device=x.device), last_chunk]))


def build_model(ds: Dataset, config: ModelConfig | dict, steps: int | None = None) -> nn.Module:
    """The model an arm's settings name, sized for the data set. `steps`: the longest sequence
    it reads in training, which sets the chrono initialisation (None when weights are loaded)."""
    cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
    n_inputs = ds.vocab_size if ds.kind == "tokens" else ds.n_channels
    streams = ds.meta.get("streams", 1)
    if cfg.type == "chunk_encoder":
        encoder = LSTMClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps=cfg.chunk)
        return ChunkEncoderClassifier(encoder, ds.n_classes, cfg, steps)
    if cfg.type == "segments":
        if "pieces" not in ds.meta:
            raise ValueError("model type 'segments' reads the pieces of a 'parallel' reduction; use one")
        return SegmentClassifier(ds.kind, n_inputs, ds.n_classes, ds.meta["pieces"], cfg, steps)
    if cfg.type == "bag":
        return BagClassifier(ds.kind, n_inputs, ds.n_classes, cfg, streams)
    plain = {"lstm": LSTMClassifier, "seq2seq": Seq2SeqClassifier}.get(cfg.type)
    if plain is None:
        raise ValueError(f"unknown model type {cfg.type!r}")
    return plain(ds.kind, n_inputs, ds.n_classes, cfg, streams, steps)


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices per batch, similar lengths together so little padding is computed.

    With a generator: shuffle, sort within pools of 50 batches, shuffle the batch order
    (random but bucketed). Without one: plain sort by length (for prediction)."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(
    split: Split, rows: np.ndarray, device: torch.device, pin: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad the chosen rows at the end to the longest among them. Tokens stay int32 until they
    reach `device` (half the bytes of int64 to copy); with `pin` the host batch is page-locked,
    so that a copy to a GPU runs asynchronously (`non_blocking`)."""
    lengths = split.lengths[rows]
    longest = int(lengths.max())
    first = split[rows[0]]
    dtype = np.float32 if first.dtype == np.float32 else np.int32
    padded = np.zeros((len(rows), longest) + first.shape[1:], dtype=dtype)
    for j, i in enumerate(rows):
        seq = split[i]
        padded[j, : len(seq)] = seq
    x, lengths = torch.from_numpy(padded), torch.from_numpy(lengths.astype(np.int64))
    if pin:
        x, lengths = x.pin_memory(), lengths.pin_memory()
    if device.type == "cpu":
        return to_device(x, device), lengths
    return to_device(x, device), lengths.to(device, non_blocking=True)


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A (chunk of a) host batch on the device: tokens cast to int64 there, after the copy."""
    x = x.to(device, non_blocking=True)
    return x if x.is_floating_point() else x.long()


@torch.no_grad()
def predict_proba(
    model: nn.Module, split: Split, batch_size: int = 64, chunk: int | None = 4096
) -> np.ndarray:
    """Class probabilities per row of the split, in row order; sequences longer than `chunk`
    are read in chunks so that memory does not grow with their length."""
    model.eval()
    device = model.head.weight.device
    probs = np.zeros((len(split), model.head.out_features), dtype=np.float64)
    for rows in length_batches(split.lengths, batch_size, None):
        x, lengths = collate(split, rows, torch.device("cpu"))
        if hasattr(model, "run"):  # LSTM classifiers carry their state across chunks
            logits = model.predict_logits(x, lengths, chunk)
        else:
            logits = model(x.to(device), lengths.to(device))
        probs[rows] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    return probs


def average_views(probs: np.ndarray, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Mean probabilities over the rows that share an origin (sampled views of one record),
    with each record's label; records in order of first appearance."""
    origins, first, inverse = np.unique(split.origin, return_index=True, return_inverse=True)
    sums = np.zeros((len(origins), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    counts = np.bincount(inverse, minlength=len(origins))[:, None]
    order = np.argsort(first)
    return (sums / counts)[order], split.labels[first][order]
