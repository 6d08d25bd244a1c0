"""The S4D layer's fast path (a convolution by FFT) against a step-by-step recurrence written
from the state-space equations alone, and padding never read."""

import numpy as np
import pytest
import torch

from longseq.core.settings import ModelConfig
from longseq.models import check_options, s4d


def recurrence(kernel: s4d.S4DKernel, u: np.ndarray) -> np.ndarray:
    """y_t = 2 Re(C x_t), x_t = exp(dt A) x_{t-1} + (exp(dt A) - 1) / A * u_t, per channel, one
    step at a time in complex128 (numpy), from the raw parameters."""
    dt = np.exp(kernel.log_dt.detach().double().numpy())[:, None]
    a = -np.exp(kernel.log_a_real.detach().double().numpy()) + 1j * kernel.a_imag.detach().double().numpy()
    c = kernel.c.detach().double().numpy()
    c = c[..., 0] + 1j * c[..., 1]
    a_bar, b_bar = np.exp(dt * a), (np.exp(dt * a) - 1) / a
    x = np.zeros_like(a)
    ys = []
    for t in range(u.shape[-1]):
        x = a_bar * x + b_bar * u[:, :, t, None]  # [B, H, N/2]
        ys.append(2 * (c * x).sum(-1).real)
    return np.stack(ys, -1)


@pytest.mark.parametrize("init", ["lin", "inv"])
def test_the_fft_convolution_equals_the_step_recurrence(init):
    torch.manual_seed(0)
    kernel = s4d.S4DKernel(channels=3, state=8, init=init)
    u = torch.randn(2, 3, 57, dtype=torch.float64)
    fast = s4d.convolution(u, kernel(57).double())
    np.testing.assert_allclose(fast.detach().numpy(), recurrence(kernel, u.numpy()), rtol=1e-4, atol=1e-4)


def test_the_two_way_kernel_reads_the_past_and_the_future_as_a_naive_double_sum():
    rng = np.random.default_rng(0)
    forward, backward, u = rng.normal(size=(2, 9)), rng.normal(size=(2, 9)), rng.normal(size=(3, 2, 9))
    naive = np.zeros_like(u)
    for t in range(9):
        for s in range(9):
            naive[:, :, t] += (forward[:, t - s] if s <= t else backward[:, s - t - 1]) * u[:, :, s]
    k = s4d.two_way_kernel(torch.from_numpy(forward), torch.from_numpy(backward))
    np.testing.assert_allclose(s4d.convolution(torch.from_numpy(u), k).numpy(), naive, atol=1e-10)


def test_published_initialisation():
    kernel = s4d.S4DKernel(channels=200, state=16, init="lin")
    dt = torch.exp(kernel.log_dt)
    assert dt.min() >= 0.001 and dt.max() <= 0.1 and dt.max() / dt.min() > 20  # log-uniform [1e-3, 1e-1]
    assert torch.allclose(-torch.exp(kernel.log_a_real), torch.tensor(-0.5))
    assert torch.allclose(kernel.a_imag[0], torch.pi * torch.arange(8.0))


def classifier(**options):
    cfg = ModelConfig(type="s4d", embedding=8, dropout=0.0, options=check_options("s4d", options))
    return s4d.S4DClassifier("tokens", 20, 3, cfg).eval()


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_is_never_read(bidirectional):
    torch.manual_seed(1)
    model = classifier(hidden=8, layers=2, state=4, bidirectional=bidirectional)
    lengths = torch.tensor([37, 20])
    x = torch.randint(2, 20, (2, 37))
    x[1, 20:] = torch.randint(2, 20, (17,))  # junk past the end, not padding ids: must not matter
    together = model(x, lengths)
    alone = torch.cat([model(x[i : i + 1, : lengths[i]], lengths[i : i + 1]) for i in range(2)])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)


def test_the_ssm_parameters_learn_at_the_recipe_rate():
    groups = classifier().parameter_groups(lr=0.01, weight_decay=0.1)
    assert groups[1]["lr"] == s4d.SSM_LR and groups[1]["weight_decay"] == 0
    n_ssm = sum(p.numel() for p in groups[1]["params"])
    assert n_ssm == 4 * 2 * (64 + 2 * 64 * 32)  # layers x directions x (dt, then A: real, imaginary)


def test_it_learns_evidence_hundreds_of_steps_before_the_end():
    """Class markers, 1 % of the steps, only in the first 10 % of 320-400 noise tokens: a
    constant predictor gets 0.5."""
    from longseq import sources
    from longseq.steps.train import train_model

    spec = {"reader": "synthetic", "n": 240, "length": 400, "evidence": "start", "evidence_count": 4}
    ds = sources.ingest(spec | {"split": "stratified", "valid_fraction": 0.2, "test_fraction": 0.25})
    settings = {"type": "s4d", "hidden": 16, "layers": 1, "state": 8, "embedding": 16, "bidirectional": False}
    budget = {
        "max_updates": 300,
        "eval_every": 50,
        "min_updates": 300,
        "warmup": 5,
        "batch_size": 16,
        "lr": 0.01,
    }
    model, _ = train_model(ds, settings, budget, seed=0, device=torch.device("cpu"), progress=False)
    test = ds.splits["test"]
    lengths = torch.as_tensor(test.lengths)
    x = torch.zeros(len(test), int(lengths.max()), dtype=torch.long)
    for i, record in enumerate(test):
        x[i, : len(record)] = torch.as_tensor(np.asarray(record), dtype=torch.long)
    with torch.no_grad():
        accuracy = (model.eval()(x, lengths).argmax(1).numpy() == test.labels).mean()
    assert accuracy > 0.8
