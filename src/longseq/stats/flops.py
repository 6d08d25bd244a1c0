"""What a model costs, in floating-point operations counted from its shapes.

The verdict recommends the cheapest arm among those as good as the best. Steps read in
training are not comparable across model types (the bag reads every step but does almost
nothing per step) and seconds depend on the machine; FLOPs are neither. Counted as profilers
count them (PyTorch's FlopCounterMode, fvcore): 2 per multiply-add of every matrix product
(the LSTM gates, 8 H (D + H) a step and layer; linear layers, 2 x in x out); element-wise work
(gate activations, cell updates, scaling, pooling) is left out, for every model alike.

A model type of the built-in ones is counted here; a plug-in model may count itself with a
`forward_flops(steps)` method. Kept apart from the models so that counting costs reruns only
the evaluations, never the training.
"""

from __future__ import annotations

import numpy as np
from torch import nn


def lstm(layer: nn.LSTM, steps) -> np.ndarray:
    """The gates of every layer and direction at every step."""
    hidden, directions = layer.hidden_size, 2 if layer.bidirectional else 1
    width = layer.input_size
    total = 0
    for _ in range(layer.num_layers):
        total += directions * 8 * hidden * (width + hidden)
        width = hidden * directions
    return total * np.asarray(steps, dtype=np.float64)


def cell(layer: nn.LSTMCell) -> int:
    return 8 * layer.hidden_size * (layer.input_size + layer.hidden_size)


def linear(layer: nn.Linear) -> int:
    return 2 * layer.in_features * layer.out_features


def _chunks(steps, chunk: int) -> np.ndarray:
    return -(-np.asarray(steps) // chunk)


def front_end(front, steps) -> np.ndarray:
    """Every residual block's convolutions at every step, then every strided convolution over the
    summaries it makes (the input padded to the stride)."""
    total, n = 0.0, _chunks(steps, front.stride) * front.stride
    for conv in (c for block in front.blocks for c in [*block.convs, block.skip] if isinstance(c, nn.Conv1d)):
        total = total + 2 * n * conv.in_channels * conv.out_channels * conv.kernel_size[0]
    for conv in front.convs:
        n = -(-n // front.step)
        total = total + 2 * n * conv.in_channels * conv.out_channels * conv.kernel_size[0]
    return np.asarray(total, dtype=np.float64)


def readout(pooling, steps) -> np.ndarray:
    """The attention readout's score at every output it pools; the other readouts are element-wise."""
    return (0 if pooling.score is None else linear(pooling.score)) * np.asarray(steps, dtype=np.float64)


def fft_convolution(channels: int, steps) -> np.ndarray:
    """A convolution by FFT over 2L points per channel: a real transform there and back, 2.5 n
    log2 n each (the split-radix count; PyTorch's counter does not count FFTs); the kernel's
    own transform is shared by the batch and left out."""
    n = 2 * np.maximum(np.asarray(steps, dtype=np.float64), 1)
    return channels * 2 * 2.5 * n * np.log2(n)


def state_space(m, steps) -> np.ndarray:
    """S4D: the input projection, then per layer its convolution and GLU mix at every step."""
    steps = np.asarray(steps, dtype=np.float64)
    total = linear(m.encode) * steps
    for layer in m.layers:
        total = total + fft_convolution(layer.mix.in_features, steps) + linear(layer.mix) * steps
    return total + linear(m.head)


def recurrent(m, steps) -> np.ndarray:
    """An LSTM classifier: its front end (if any), the LSTM over what it makes, the readout."""
    if m.front is None:
        return lstm(m.lstm, steps) + readout(m.readout, steps)
    summaries = _chunks(steps, m.stride)
    return front_end(m.front, steps) + lstm(m.lstm, summaries) + readout(m.readout, summaries)


COUNTS = {
    "LSTMClassifier": lambda m, steps: recurrent(m, steps) + linear(m.head),
    "Seq2SeqClassifier": lambda m, steps: recurrent(m, steps) + cell(m.decoder) + linear(m.head),
    "ConvClassifier": lambda m, steps: (
        front_end(m.front, steps) + readout(m.readout, _chunks(steps, m.front.stride)) + linear(m.head)
    ),
    # the pooling is element-wise: only the two layers after it
    "BagClassifier": lambda m, steps: np.zeros(np.shape(steps)) + linear(m.hidden[0]) + linear(m.head),
    "SegmentClassifier": lambda m, steps: (
        sum(lstm(piece, steps) + readout(r, steps) for piece, r in zip(m.lstms, m.readouts)) + linear(m.head)
    ),
    "S4DClassifier": state_space,
    # the encoder reads every window, padded to `chunk` steps; the classifier one step a window
    "ChunkEncoderClassifier": lambda m, steps: (
        lstm(m.encoder.lstm, _chunks(steps, m.chunk) * m.chunk)
        + lstm(m.lstm, _chunks(steps, m.chunk))
        + readout(m.readout, _chunks(steps, m.chunk))
        + linear(m.head)
    ),
}


def forward_flops(model: nn.Module, steps) -> np.ndarray:
    """FLOPs of one forward pass per record (or view) of `steps` steps."""
    own = getattr(model, "forward_flops", None)
    if own is not None:
        return np.asarray(own(steps), dtype=np.float64)
    name = type(model).__name__
    if name not in COUNTS:
        raise ValueError(
            f"no FLOP count for model {name}; give it a forward_flops(steps) method (see longseq/flops.py)"
        )
    return np.asarray(COUNTS[name](model, steps), dtype=np.float64)


def costs(model: nn.Module, lengths: np.ndarray, records: int, steps_read: float) -> dict:
    """Inference FLOPs per test record (its views added up) and the run's training FLOPs:
    forward and backward, about 3 forward passes (backward ~2x forward), over the steps read
    in training, at the test views' FLOPs per step."""
    per_view = forward_flops(model, lengths)
    per_step = per_view.sum() / max(int(np.sum(lengths)), 1)
    return {
        "inference_flops": float(per_view.sum() / records),
        "train_flops": float(3 * per_step * steps_read),
    }
