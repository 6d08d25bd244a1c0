"""FLOPs from the models' shapes (longseq.stats.flops) against PyTorch's profiler counting the same
forward pass. The fused nn.LSTM kernel is invisible to the profiler, so the recurrent models are
counted on a reference that unrolls them step by step with nn.LSTMCell, written here."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from longseq.core.settings import ModelConfig
from longseq.models.bag import BagClassifier
from longseq.models.chunk_encoder import ChunkEncoderClassifier
from longseq.models.lstm import LSTMClassifier
from longseq.stats import flops


def profiled(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def unrolled_lstm(lstm: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """Every layer as an LSTMCell stepped through time; returns the last layer's outputs."""
    for layer in range(lstm.num_layers):
        cell = nn.LSTMCell(x.shape[-1], lstm.hidden_size)
        state, outputs = None, []
        for t in range(x.shape[1]):
            state = cell(x[:, t], state)
            outputs.append(state[0])
        x = torch.stack(outputs, 1)
    return x


def test_lstm_classifier_counts_what_the_profiler_counts_on_an_unrolled_reference():
    cfg = ModelConfig.from_dict(dict(hidden=16, embedding=8, layers=2))
    model = LSTMClassifier("tokens", 50, 3, cfg)
    x = torch.randint(1, 50, (1, 37))

    def reference():
        model.head(unrolled_lstm(model.lstm, model.inputs(x))[:, -1])

    assert flops.forward_flops(model, 37) == profiled(reference) > 0
    # a signal LSTM too, one layer, and a batch of lengths at once
    signal = LSTMClassifier("signal", 6, 2, ModelConfig.from_dict(dict(hidden=12)))
    counted = flops.forward_flops(signal, np.array([5, 9]))
    expected = [
        profiled(lambda n=n: signal.head(unrolled_lstm(signal.lstm, torch.randn(1, n, 6))[:, -1]))
        for n in (5, 9)
    ]
    np.testing.assert_array_equal(counted, expected)


def test_bag_counts_what_the_profiler_counts_on_its_own_forward():
    for kind, inputs in (("tokens", torch.randint(1, 40, (1, 300))), ("signal", torch.randn(1, 300, 4))):
        model = BagClassifier(
            kind, 40 if kind == "tokens" else 4, 5, ModelConfig.from_dict(dict(hidden=24, embedding=10))
        )
        assert (
            flops.forward_flops(model, 300)
            == profiled(lambda model=model, inputs=inputs: model(inputs, torch.tensor([300])))
            > 0
        )


def test_chunk_encoder_counts_its_padded_windows_and_their_summaries():
    cfg = ModelConfig.from_dict(dict(type="chunk_encoder", hidden=8, embedding=4, chunk=10))
    model = ChunkEncoderClassifier(LSTMClassifier("tokens", 30, 2, cfg), 2, cfg)
    steps = 23  # three windows, the last one padded to 10 steps

    def reference():
        windows = model.encoder.inputs(torch.randint(1, 30, (3, 10)))
        summaries = unrolled_lstm(model.encoder.lstm, windows)[:, -1][None]
        model.head(unrolled_lstm(model.lstm, summaries)[:, -1])

    assert flops.forward_flops(model, steps) == profiled(reference)


def test_costs_add_a_records_views_and_scale_training_by_the_steps_read():
    model = LSTMClassifier("tokens", 20, 2, ModelConfig.from_dict(dict(hidden=4, embedding=2)))
    per_step = flops.forward_flops(model, 2) - flops.forward_flops(model, 1)
    head = flops.forward_flops(model, 1) - per_step
    # two records with two views each, of 10 and 30 steps
    cost = flops.costs(model, np.array([10, 30, 10, 30]), records=2, steps_read=1000)
    assert cost["inference_flops"] == 2 * head + 40 * per_step
    assert cost["train_flops"] == pytest.approx(3 * 1000 * (4 * head + 80 * per_step) / 80)


def test_a_model_without_a_count_is_refused_by_name():
    class Unknown(nn.Module):
        pass

    with pytest.raises(ValueError, match="no FLOP count for model Unknown; give it a forward_flops"):
        flops.forward_flops(Unknown(), 10)


@pytest.mark.parametrize("steps, blocks", [(64, 0), (70, 0), (70, 2)])
def test_learned_summarizer_counts_what_the_profiler_counts(steps, blocks):
    """The conv ablation's own forward (residual blocks, convolutions, attention scores, head) and
    the conv_lstm on a reference whose LSTM is unrolled; 70 steps are padded to a multiple of the
    stride (72)."""
    from longseq.models.conv import ConvClassifier
    from longseq.models.conv_lstm import build

    options = dict(
        readout="attention", conv_layers=2, channels=8, stride=4, kernel=3, norm="none", blocks=blocks
    )
    conv = ConvClassifier("signal", 3, 2, ModelConfig.from_dict(dict(type="conv", **options)))
    x = torch.randn(1, steps, 3)
    assert flops.forward_flops(conv, steps) == profiled(lambda: conv(x, torch.tensor([steps]))) > 0

    class Signals:
        kind, n_classes, meta = "signal", 2, {}

    model = build(Signals(), ModelConfig.from_dict(dict(type="conv_lstm", hidden=6, **options)), 3, 1, None)

    def reference():
        h = model.inputs(x)
        h = torch.cat([h, h.new_zeros(1, -steps % 4, 3)], dim=1)
        summaries, _ = model.front(h, None, torch.tensor([steps]))
        out = unrolled_lstm(model.lstm, summaries)
        model.head(model.readout.pool(out, torch.ones(out.shape[:2], dtype=torch.bool)))

    assert flops.forward_flops(model, steps) == profiled(reference) > 0


def test_s4d_counts_what_the_profiler_counts_plus_its_ffts():
    from longseq.models.s4d import S4DClassifier

    cfg = ModelConfig.from_dict(dict(type="s4d", hidden=6, layers=2, state=4, embedding=5))
    model = S4DClassifier("tokens", 30, 3, cfg).eval()
    profiled_matmuls = profiled(lambda: model(torch.randint(1, 30, (1, 64)), torch.tensor([64])))
    kernels = profiled(lambda: [layer.kernel(64) for layer in model.layers])  # once per batch: left out
    ffts = 2 * 6 * 2 * 2.5 * 128 * 7  # layers x channels x (there and back) x 2.5 n log2 n, n = 2 x 64
    assert kernels > 0 and flops.forward_flops(model, 64) == profiled_matmuls - kernels + ffts
