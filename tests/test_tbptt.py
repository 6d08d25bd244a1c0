"""TBPTT gradients equal plain autograd with the graph cut (detached) at the same steps."""

import pytest
import torch
from torch import nn

from longseq.core.settings import ModelConfig
from longseq.models.lstm import LSTMClassifier
from longseq.steps.tbptt import last_k_batch, tbptt_batch

CPU = torch.device("cpu")


def make_batch(seed=0, lengths=(37, 33, 30)):
    torch.manual_seed(seed)
    model = (
        LSTMClassifier("tokens", 15, 3, ModelConfig.from_dict(dict(hidden=6, embedding=4, layers=2)))
        .eval()
        .double()
    )
    steps = max(lengths)
    x = torch.randint(2, 15, (len(lengths), steps))
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    return model, x, torch.tensor(lengths), torch.tensor([0, 2, 1])


def grads(model):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in model.parameters()]


def cell_steps(model, inputs, state, steps):
    """A naive LSTM written out from the equations (not nn.LSTM): run `steps` of one sequence's
    step inputs [T, E] from `state` (per layer (h, c)), returning the top layer's outputs."""
    lstm = model.lstm
    outputs = []
    for t in steps:
        below = inputs[t]
        new_state = []
        for layer, (h, c) in enumerate(state):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
            b = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
            i, f, g, o = (w_ih @ below + w_hh @ h + b).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            new_state.append((h, c))
            below = h
        state = new_state
        outputs.append(below)
    return outputs, state


def reference_tbptt(model, x, lengths, y, k1, k2, aux_weight):
    """TBPTT(k1, k2) from its definition, one loss term at a time: the loss at a sequence's last
    step and (weighted) at every chunk end before it; the gradient of a term in the chunk
    [start, stop) flows through steps max(0, stop - k2) .. its position and no further back.
    Returns the gradient each chunk produces (parameters do not change in between)."""
    steps, hidden = x.shape[1], model.lstm.hidden_size
    layers = model.lstm.num_layers
    zero = [(torch.zeros(hidden, dtype=torch.double), torch.zeros(hidden, dtype=torch.double))] * layers
    terms = []  # (chunk index, sequence, position, weight)
    for c, start in enumerate(range(0, steps, k1)):
        stop = min(start + k1, steps)
        for i, n in enumerate(lengths.tolist()):
            if start <= n - 1 < stop:
                terms.append((c, i, n - 1, 1.0))
            elif n - 1 > stop - 1 and stop < steps and aux_weight > 0:
                terms.append((c, i, stop - 1, aux_weight))
    total_weight = sum(w for *_, w in terms)
    per_chunk = {}
    for c, i, position, weight in terms:
        stop = min(c * k1 + k1, steps)
        cut = max(0, stop - k2)
        inputs = model.inputs(x[i])
        with torch.no_grad():
            _, state = cell_steps(model, inputs, zero, range(cut))
        outputs, _ = cell_steps(model, inputs, state, range(cut, position + 1))
        logits = model.classify(outputs[-1][None])
        model.zero_grad()
        (weight * nn.functional.cross_entropy(logits, y[i : i + 1]) / total_weight).backward()
        for j, g in enumerate(grads(model)):
            per_chunk.setdefault(c, [torch.zeros_like(g) for g in grads(model)])[j] += g
    return [per_chunk[c] for c in sorted(per_chunk)]


@pytest.mark.parametrize(
    "k1, k2, aux_weight", [(8, 8, 1.0), (5, 12, 1.0), (10, 25, 0.5), (40, 40, 1.0), (7, 7, 0.0)]
)
def test_tbptt_gradients_match_a_naive_reference(k1, k2, aux_weight):
    model, x, lengths, y = make_batch(lengths=(37, 22, 30))
    expected = reference_tbptt(model, x, lengths, y, k1, k2, aux_weight)
    got = []

    def after_chunk():
        got.append(grads(model))
        model.zero_grad()

    model.zero_grad()
    tbptt_batch(model, x, lengths, y, k1, k2, after_chunk=after_chunk, device=CPU, aux_weight=aux_weight)
    assert len(got) == len(expected)
    for chunk_got, chunk_want in zip(got, expected):
        for g, w in zip(chunk_got, chunk_want):
            torch.testing.assert_close(g, w, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("k1, k2", [(7, 3), (200, 100)])
def test_tbptt_refuses_a_gradient_window_shorter_than_its_chunk(k1, k2):
    from longseq.core.settings import TrainConfig

    model, x, lengths, y = make_batch()
    with pytest.raises(ValueError, match="k2 >= k1"):
        tbptt_batch(model, x, lengths, y, k1, k2, after_chunk=lambda: None, device=CPU)
    with pytest.raises(ValueError, match="k2 >= k1"):
        TrainConfig.from_dict({"mode": "tbptt", "k1": k1, "k2": k2})
    assert TrainConfig.from_dict({"mode": "tbptt", "k1": k1}).gradient_window == k1  # k2 defaults to k1


def test_tbptt_over_the_whole_length_is_full_bptt():
    model, x, lengths, y = make_batch(lengths=(20, 20, 20))
    model.zero_grad()
    nn.functional.cross_entropy(model(x, lengths), y).backward()
    full = grads(model)
    model.zero_grad()
    tbptt_batch(model, x, lengths, y, k1=20, k2=20, after_chunk=lambda: None, device=CPU)
    for got, want in zip(grads(model), full):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("k", [1, 6, 29, 100])
def test_last_k_gradients_match_the_cut_reference(k):
    model, x, lengths, y = make_batch(seed=1)
    window = max(0, int(lengths.min()) - k)
    model.zero_grad()
    state = None
    if window:
        _, state = model.run(x[:, :window])
        state = tuple(s.detach() for s in state)
    out, _ = model.run(x[:, window:], state)
    logits = model.classify(out[torch.arange(3), lengths - 1 - window])
    nn.functional.cross_entropy(logits, y).backward()
    expected = grads(model)
    model.zero_grad()
    loss, _ = last_k_batch(model, x, lengths, y, k, CPU, chunk=4)
    loss.backward()
    for got, want in zip(grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_tbptt_calls_the_step_after_every_chunk_with_a_loss():
    model, x, lengths, y = make_batch()
    calls = []
    tbptt_batch(model, x, lengths, y, k1=10, k2=10, after_chunk=lambda: calls.append(1), device=CPU)
    assert len(calls) == 4  # steps 0-9, 10-19, 20-29, 30-36


def test_chunked_prediction_equals_one_pass():
    model, x, lengths, _y = make_batch(lengths=(37, 12, 30))
    with torch.no_grad():
        torch.testing.assert_close(model.predict_logits(x, lengths, chunk=5), model(x, lengths))
