"""Readouts and the learned summarizer against references written differently: a loop over
each record alone, unpadded, with its pool computed step by step; and TBPTT, chunked
prediction and padding never changing what one pass over each record alone gives."""

import pytest
import torch
from torch import nn

from longseq.core.settings import ModelConfig, as_dict
from longseq.models.conv import ConvClassifier
from longseq.models.conv_lstm import build as build_conv_lstm
from longseq.models.lstm import LSTMClassifier
from longseq.steps.tbptt import last_k_batch, tbptt_batch

CPU = torch.device("cpu")
READOUTS = ["last", "mean", "max", "attention"]


class _Signals:
    kind, n_classes, meta = "signal", 3, {}


def lstm_model(readout, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig.from_dict(dict(hidden=6, embedding=4, layers=2, readout=readout, dropout=0.0))
    return LSTMClassifier("tokens", 15, 3, cfg).eval().double()


def conv_lstm_model(readout="max", norm="layer", stride=4, kernel=3, seed=0, layers=2, blocks=0, skip=False):
    torch.manual_seed(seed)
    settings = dict(
        type="conv_lstm",
        hidden=5,
        readout=readout,
        conv_layers=layers,
        channels=6,
        stride=stride,
        dropout=0.0,
    )
    cfg = ModelConfig.from_dict(
        {**settings, "kernel": kernel, "norm": norm, "blocks": blocks, "block_kernel": 3, "skip": skip}
    )
    return build_conv_lstm(_Signals(), cfg, 2, 1, None).double()


def token_batch(lengths=(37, 22, 30), seed=0):
    torch.manual_seed(seed)
    x = torch.randint(2, 15, (len(lengths), max(lengths)))
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    return x, torch.tensor(lengths), torch.tensor([0, 2, 1])


def signal_batch(lengths=(37, 9, 30, 16), seed=0):
    """Padding filled with huge values: read anywhere, it would show."""
    torch.manual_seed(seed)
    x = torch.full((len(lengths), max(lengths), 2), 1e6, dtype=torch.double)
    for i, n in enumerate(lengths):
        x[i, :n] = torch.randn(n, 2, dtype=torch.double)
    return x, torch.tensor(lengths)


def naive_pool(model, outputs, frozen=0):
    """The readout of one record's outputs [T, H], a step at a time; the first `frozen` enter
    as constants (attention: their scores too)."""
    kind = model.readout.kind
    if kind == "last":
        return outputs[-1]
    if kind == "mean":
        total = torch.zeros_like(outputs[0])
        for out in outputs:
            total = total + out
        return total / len(outputs)
    if kind == "max":
        best = outputs[0]
        for out in outputs[1:]:
            best = torch.where(out > best, out, best)
        return best
    scores = []
    for t, out in enumerate(outputs):
        with torch.set_grad_enabled(t >= frozen):
            scores.append(model.readout.score(out)[0])
    weights = [torch.exp(s) for s in scores]
    return sum(w * out for w, out in zip(weights, outputs)) / sum(weights)


@pytest.mark.parametrize("readout", READOUTS)
def test_each_readout_of_a_padded_batch_equals_a_loop_over_unpadded_records(readout):
    model = lstm_model(readout)
    x, lengths, _ = token_batch()
    got = model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        out, _ = model.lstm(model.inputs(x[i : i + 1, :n]))
        want = model.classify(naive_pool(model, list(out[0]))[None])
        torch.testing.assert_close(got[i : i + 1], want)


@pytest.mark.parametrize("readout", READOUTS)
def test_pooled_readouts_run_across_chunks_like_one_pass(readout):
    model = lstm_model(readout)
    x, lengths, y = token_batch(lengths=(37, 12, 30))
    with torch.no_grad():
        one_pass = model(x, lengths)
        torch.testing.assert_close(model.predict_logits(x, lengths, chunk=5), one_pass)
    # TBPTT's final logits (parameters unchanged between chunks) are the one pass's
    _, final = tbptt_batch(model, x, lengths, y, k1=7, k2=10, after_chunk=model.zero_grad, device=CPU)
    torch.testing.assert_close(final, one_pass)
    _loss, logits = last_k_batch(model, x, lengths, y, k=5, device=CPU, chunk=4)
    torch.testing.assert_close(logits.detach(), one_pass)


def reference_pooled_tbptt_gradient(model, x, lengths, y, k1, k2):
    """TBPTT(k1, k2) with a pooled readout from its definition, one loss term at a time: a term
    in the chunk [start, stop) pools every step so far; the outputs of steps before `start` enter
    as constants (they were pooled in earlier chunks; attention's scores of them too), those from
    `start` on with the
    gradient of the run from max(0, stop - k2) (its entering state detached)."""
    steps = x.shape[1]
    terms = []
    for start in range(0, steps, k1):
        stop = min(start + k1, steps)
        for i, n in enumerate(lengths.tolist()):
            if start <= n - 1 < stop:
                terms.append((start, stop, i, n - 1))
            elif n - 1 > stop - 1 and stop < steps:
                terms.append((start, stop, i, stop - 1))
    grads = [torch.zeros_like(p) for p in model.parameters()]
    for start, stop, i, position in terms:
        cut = max(0, stop - k2)
        inputs = model.inputs(x[i : i + 1, : position + 1])
        with torch.no_grad():
            before = list(model.lstm(inputs[:, :start])[0][0]) if start else []
            state = model.lstm(inputs[:, :cut])[1] if cut else None
        after, _ = model.lstm(inputs[:, cut:], state)
        outputs = before + list(after[0, start - cut :])
        logits = model.classify(naive_pool(model, outputs, frozen=start)[None])
        model.zero_grad()
        (nn.functional.cross_entropy(logits, y[i : i + 1]) / len(terms)).backward()
        grads = [g + (p.grad if p.grad is not None else 0) for g, p in zip(grads, model.parameters())]
    return grads


@pytest.mark.parametrize("readout", ["mean", "max", "attention"])
def test_tbptt_gradients_with_a_pooled_readout_match_a_naive_reference(readout):
    model = lstm_model(readout, seed=2)
    x, lengths, y = token_batch(lengths=(23, 14, 19))
    want = reference_pooled_tbptt_gradient(model, x, lengths, y, k1=6, k2=9)
    model.zero_grad()
    tbptt_batch(model, x, lengths, y, k1=6, k2=9, after_chunk=lambda: None, device=CPU)  # grads add up
    for p, w in zip(model.parameters(), want):
        torch.testing.assert_close(p.grad if p.grad is not None else torch.zeros_like(w), w)


@pytest.mark.parametrize("blocks", [0, 2])
@pytest.mark.parametrize("norm, train", [("layer", True), ("none", True), ("batch", False)])
def test_the_front_end_never_reads_padding_through_its_strides(norm, train, blocks):
    """A padded batch (padding huge) gives what each record alone gives: layer norm and no norm
    also in training (no batch statistics), batch norm in evaluation (its running statistics);
    through the residual blocks too."""
    model = conv_lstm_model(norm=norm, blocks=blocks).train(train)
    x, lengths = signal_batch()
    got = model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(got[i : i + 1], model(x[i : i + 1, :n], lengths[i : i + 1]))


def test_masked_batch_norm_takes_its_statistics_from_the_valid_steps_only():
    model = conv_lstm_model(norm="batch").train()
    x, lengths = signal_batch()
    front, inputs = model.front, model.inputs(x)
    first = front.convs[0]
    # the reference: each record alone through the first convolution, batch norm over all their steps
    alone = []
    for i, n in enumerate(lengths.tolist()):
        h = inputs[i, :n]
        h = torch.cat([h, h.new_zeros(-n % front.stride, 2)])  # the record padded to the stride with zeros
        h = torch.cat([h.new_zeros(front.kernel - front.step, 2), h])  # causal: the context before it
        alone.append(first(h.T[None])[0].T[: -(-n // front.step)])
    values = torch.cat(alone)
    want = (values - values.mean(0)) / torch.sqrt(values.var(0, unbiased=False) + front.norms[0].eps)
    pad = -inputs.shape[1] % front.stride
    padded = torch.cat([inputs, inputs.new_zeros(len(x), pad, 2)], dim=1)
    mean_before = front.norms[0].running_mean.clone()
    hooked = []
    handle = front.norms[0].register_forward_hook(lambda m, args, out: hooked.append((out, args[1])))
    front(padded, None, lengths)
    handle.remove()
    out, valid = hooked[0]
    torch.testing.assert_close(out[valid], want * front.norms[0].weight + front.norms[0].bias)
    assert not torch.equal(front.norms[0].running_mean, mean_before)  # running statistics updated


def test_a_convolution_equals_a_loop_over_its_causal_windows():
    """A one-layer front end, written out: summary j of a record reads input steps
    j * s - (k - s) .. j * s + s - 1, zeros before the start and past the end."""
    model = conv_lstm_model(norm="none", stride=4, kernel=6, layers=1).eval()
    x, lengths = signal_batch(lengths=(13, 5))
    h = model.inputs(x)
    conv, s, k = model.front.convs[0], 4, 6
    got, _ = model.front(torch.cat([h, h.new_zeros(2, 3, 2)], dim=1), None, lengths)  # 13 + 3: 4 strides
    for i, n in enumerate(lengths.tolist()):
        steps = torch.cat([h.new_zeros(k - s, 2), h[i, :n], h.new_zeros(16 - n, 2)])  # no padding read
        for j in range(-(-n // s)):
            window = steps[j * s : j * s + k]  # [k, C]
            want = torch.relu((conv.weight * window.T[None]).sum((1, 2)) + conv.bias)
            torch.testing.assert_close(got[i, j], want)
        assert got[i, -(-n // s) :].abs().sum() == 0  # summaries past the end are zeros


def test_a_residual_block_equals_a_loop_over_its_dilated_causal_windows():
    """Block 1 (dilation 2, kernel 3) written out per step: out[t] = relu(c2(y)[t] + skip x[t]),
    y[t] = relu(c1(x)[t]), c(v)[t] = b + sum_j W_j v[t - (k - 1 - j) d], zeros before the start."""
    model = conv_lstm_model(norm="none", blocks=2).eval()
    block, k, d = model.front.blocks[1], 3, 2
    x = torch.randn(11, 6, dtype=torch.double)

    def conv(c, v):
        out = []
        for t in range(len(v)):
            total = c.bias.clone()
            for j in range(k):
                s = t - (k - 1 - j) * d
                if s >= 0:
                    total = total + c.weight[:, :, j] @ v[s]
            out.append(total)
        return torch.stack(out)

    want = torch.relu(
        conv(block.convs[1], torch.relu(conv(block.convs[0], x))) + x
    )  # equal widths: identity skip
    got, _ = block(x[None], torch.ones(1, 11, dtype=torch.bool), None)
    torch.testing.assert_close(got[0], want)


@pytest.mark.parametrize("blocks", [0, 2])
@pytest.mark.parametrize("readout", ["last", "max", "attention"])
def test_front_end_carries_its_context_across_chunks(readout, blocks):
    model = conv_lstm_model(readout=readout, blocks=blocks).eval()
    x, lengths = signal_batch(lengths=(37, 9, 30, 16))
    y = torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        one_pass = model(x, lengths)
        for chunk in (8, 12, 16):  # multiples of the stride 4
            torch.testing.assert_close(model.predict_logits(x, lengths, chunk=chunk), one_pass)
        torch.testing.assert_close(model.predict_logits(x, lengths, chunk=10), one_pass)  # rounded to 8
    _, final = tbptt_batch(model, x, lengths, y, k1=8, k2=12, after_chunk=model.zero_grad, device=CPU)
    torch.testing.assert_close(final, one_pass)
    with pytest.raises(ValueError, match="multiples of the model's stride 4"):
        tbptt_batch(model, x, lengths, y, k1=6, k2=6, after_chunk=lambda: None, device=CPU)


def test_tbptt_over_the_whole_length_is_bptt_through_the_front_end():
    model = conv_lstm_model(readout="mean", norm="layer").train()
    x, lengths = signal_batch(lengths=(32, 20, 27))
    y = torch.tensor([0, 1, 2])
    model.zero_grad()
    nn.functional.cross_entropy(model(x, lengths), y).backward()
    full = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    tbptt_batch(model, x, lengths, y, k1=32, k2=32, after_chunk=lambda: None, device=CPU)
    for p, want in zip(model.parameters(), full):
        torch.testing.assert_close(p.grad, want)


def test_the_conv_ablation_reads_no_padding_and_learns_with_the_same_front_end():
    torch.manual_seed(0)
    options = dict(readout="max", conv_layers=2, channels=6, stride=4, kernel=4, norm="layer")
    cfg = ModelConfig.from_dict(dict(type="conv", dropout=0.0, **options))
    model = ConvClassifier("signal", 2, 3, cfg).double().train()
    x, lengths = signal_batch()
    got = model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(got[i : i + 1], model(x[i : i + 1, :n], lengths[i : i + 1]))


def test_a_run_records_only_its_types_options():
    assert set(as_dict(ModelConfig.from_dict({"type": "lstm"}))) == {
        "type",
        "embedding",
        "dropout",
        "scaling",
        "hidden",
        "layers",
        "init",
        "forget_bias",
        "readout",
    }
    assert "chunk" not in as_dict(ModelConfig.from_dict({"type": "conv_lstm"}))
    with pytest.raises(ValueError, match="'reverse' was unexpected.*it takes"):
        ModelConfig.from_dict({"type": "lstm", "reverse": "none"})
    with pytest.raises(ValueError, match="whole stride per layer"):
        conv_lstm_model(stride=8)  # 8 over 2 layers
    # an option set study-wide concerns only the types that take it; a typo concerns none
    assert "layers" not in ModelConfig.inherit({"type": "bag", "layers": 2}, own={})
    with pytest.raises(ValueError, match="no model type takes"):
        ModelConfig.inherit({"type": "bag", "hiden": 2}, own={})


def test_with_skip_the_learned_summarizer_holds_its_ablation_as_a_special_case():
    """skip: the head reads the front end's features beside the LSTM's outputs. With the same
    front end and the ablation's head on the features (zero on the LSTM's part), the model's
    logits are the conv ablation's, on a padded batch (padding huge: never read)."""
    model = conv_lstm_model(readout="max", skip=True).eval()
    cfg = ModelConfig.from_dict(
        dict(
            type="conv",
            readout="max",
            conv_layers=2,
            channels=6,
            stride=4,
            kernel=3,
            norm="layer",
            dropout=0.0,
        )
    )
    ablation = ConvClassifier("signal", 2, 3, cfg).double().eval()
    ablation.inputs.load_state_dict(model.inputs.state_dict())
    ablation.front.load_state_dict(model.front.state_dict())
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.weight[:, :6] = ablation.head.weight  # the features come first, then the LSTM's 5
        model.head.bias.copy_(ablation.head.bias)
    x, lengths = signal_batch()
    torch.testing.assert_close(model(x, lengths), ablation(x, lengths))
    assert model.head.in_features == 6 + 5


@pytest.mark.parametrize("readout", READOUTS)
def test_with_skip_chunks_and_padding_give_one_unpadded_pass(readout):
    model = conv_lstm_model(readout=readout, skip=True).eval()
    x, lengths = signal_batch()
    whole = model(x, lengths)
    torch.testing.assert_close(model.predict_logits(x, lengths, chunk=8), whole)
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(whole[i : i + 1], model(x[i : i + 1, :n], lengths[i : i + 1]))
