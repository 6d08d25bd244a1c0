"""TBPTT gradients equal plain autograd with the graph cut (detached) at the same steps."""

import pytest
import torch
from torch import nn

from longseq.models import LSTMClassifier
from longseq.tbptt import last_k_batch, tbptt_batch

CPU = torch.device("cpu")


def make_batch(seed=0, lengths=(37, 33, 30)):
    torch.manual_seed(seed)
    model = LSTMClassifier("tokens", 15, 3, hidden=6, embedding=4, layers=2).eval().double()
    steps = max(lengths)
    x = torch.randint(2, 15, (len(lengths), steps))
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    return model, x, torch.tensor(lengths), torch.tensor([0, 2, 1])


def grads(model):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in model.parameters()]


def reference_tbptt(model, x, lengths, y, k1, k2):
    """For each chunk: a fresh graph from step stop-k2 (state detached there), the chunk's losses."""
    steps = x.shape[1]
    last = lengths - 1
    chunk_ends = [end - 1 for end in range(k1, steps + 1, k1)]
    n_terms = sum(e < n - 1 for e in chunk_ends for n in lengths) + len(lengths)
    ce = nn.CrossEntropyLoss(reduction="sum")
    model.zero_grad()
    for start in range(0, steps, k1):
        stop = min(start + k1, steps)
        window = max(0, stop - k2)
        state = None
        if window:
            _, state = model.run(x[:, :window])
            state = tuple(s.detach() for s in state)
        out, _ = model.run(x[:, window:stop], state)
        loss = out.new_zeros(())
        for i in range(len(lengths)):
            if start <= last[i] < stop:
                loss = loss + ce(model.classify(out[i : i + 1, last[i] - window]), y[i : i + 1])
            elif last[i] > stop - 1 and stop < steps:
                loss = loss + ce(model.classify(out[i : i + 1, stop - 1 - window]), y[i : i + 1])
        (loss / n_terms).backward()
    return grads(model)


@pytest.mark.parametrize("k1, k2", [(8, 8), (5, 12), (10, 25), (40, 40), (7, 3)])
def test_tbptt_gradients_match_the_cut_reference(k1, k2):
    model, x, lengths, y = make_batch()
    expected = reference_tbptt(model, x, lengths, y, k1, k2)
    model.zero_grad()
    tbptt_batch(model, x, lengths, y, k1, k2, after_chunk=lambda: None, device=CPU)
    for got, want in zip(grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


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
    model, x, lengths, y = make_batch(lengths=(37, 12, 30))
    with torch.no_grad():
        torch.testing.assert_close(model.predict_logits(x, lengths, chunk=5), model(x, lengths))
