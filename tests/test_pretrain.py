import numpy as np
import pytest
import torch

from longseq.models import build_model
from longseq.reducers import draw, reduce_dataset
from longseq.steps.pretrain import cut_windows, pretrain_encoder
from longseq.steps.saved import init_from_encoder, save_encoder
from longseq.steps.train import train_model

MODEL = {"hidden": 8, "embedding": 4}
CPU = torch.device("cpu")

CONV = {**MODEL, "type": "conv_lstm", "channels": 6, "conv_layers": 2, "stride": 4, "kernel": 4}


def _counting_dataset(lengths: tuple[int, int]):
    """Records that count up by one (mod 10) from a random start: the next token is certain given
    the last, while the unigram entropy is log 10 = 2.30 nats."""
    from longseq.core.data import Dataset, Split

    rng = np.random.default_rng(0)

    def split(n):
        starts, sizes = rng.integers(0, 10, n), rng.integers(*lengths, n)
        seqs = [(2 + (s + np.arange(t)) % 10).astype(np.int32) for s, t in zip(starts, sizes)]
        return Split.from_sequences(seqs, rng.integers(0, 2, n))

    return Dataset(
        "tokens",
        ["a", "b"],
        {s: split(n) for s, n in (("train", 64), ("valid", 16), ("test", 8))},
        {"vocab_size": 12, "vocab": [str(i) for i in range(12)]},
    )


@pytest.mark.parametrize("kind", ["tokens", "signal"])
def test_autoencoder_learns_to_reconstruct_and_initialises_the_classifier(
    tmp_path, kind, token_dataset, signal_dataset
):
    ds = token_dataset if kind == "tokens" else signal_dataset
    state, history = pretrain_encoder(
        ds,
        MODEL,
        {"window": 12, "max_epochs": 6, "patience": 6, "lr": 0.02, "batch_size": 4},
        CPU,
        progress=False,
    )
    losses = [e["train_loss"] for e in history["epochs"]]
    assert losses[-1] < losses[0]
    save_encoder(state, ds, MODEL, tmp_path / "enc.pt")
    model = build_model(ds, MODEL)
    init_from_encoder(model, ds, tmp_path / "enc.pt")
    for name, value in model.state_dict().items():
        if not name.startswith("head."):
            torch.testing.assert_close(value, state[name])
    # a truncated arm keeps the inputs, so the encoder fits it; training runs from it
    short = reduce_dataset(ds, {"reduce": "truncate", "keep": "first", "length": 10})
    _, h = train_model(
        short,
        MODEL,
        {"max_updates": 5, "eval_every": 5, "min_updates": 5, "warmup": 1, "batch_size": 4},
        0,
        CPU,
        False,
        init_encoder=tmp_path / "enc.pt",
    )
    assert h["init"]["encoder"].endswith("enc.pt")


def test_encoder_refuses_arms_that_change_the_inputs(tmp_path, signal_dataset):
    state, _ = pretrain_encoder(signal_dataset, MODEL, {"window": 8, "max_epochs": 1}, CPU, progress=False)
    save_encoder(state, signal_dataset, MODEL, tmp_path / "enc.pt")
    projected = draw(reduce_dataset(signal_dataset, {"reduce": "project", "window": 4, "dims": 2}), seed=0)
    with pytest.raises(ValueError, match="pretrained on inputs"):
        init_from_encoder(build_model(projected, MODEL), projected, tmp_path / "enc.pt")
    with pytest.raises(ValueError, match="sizes differ"):
        init_from_encoder(build_model(signal_dataset, {"hidden": 5}), signal_dataset, tmp_path / "enc.pt")


def test_windows_come_from_their_records_and_are_seeded(token_dataset):
    split = token_dataset.splits["train"]
    a = cut_windows(split, 6, 2, np.random.default_rng(0))
    b = cut_windows(split, 6, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(a.values, b.values)
    assert len(a) == 2 * len(split) and a.lengths.max() <= 6
    for i in range(len(a)):
        whole = split[i // 2].tolist()
        piece = a[i].tolist()
        assert any(whole[s : s + len(piece)] == piece for s in range(len(whole)))


def test_encoder_initialises_the_chunk_encoder_and_seq2seq_models(tmp_path, token_dataset):
    state, _ = pretrain_encoder(token_dataset, MODEL, {"window": 8, "max_epochs": 1}, CPU, progress=False)
    save_encoder(state, token_dataset, MODEL, tmp_path / "enc.pt")
    for extra in ({"type": "chunk_encoder", "chunk": 4, "freeze": True}, {"type": "seq2seq"}):
        model = build_model(token_dataset, MODEL | extra)
        init_from_encoder(model, token_dataset, tmp_path / "enc.pt")
        target = getattr(model, "encoder", model)
        torch.testing.assert_close(target.lstm.weight_hh_l0, state["lstm.weight_hh_l0"])
        torch.testing.assert_close(target.inputs.embed.weight, state["inputs.embed.weight"])


def test_a_nan_valid_loss_in_pretraining_stops_with_a_clear_error_not_a_crash_on_save(
    token_dataset, monkeypatch
):
    """The issue's case: a valid loss that is NaN every epoch used to leave no best state and
    crash when the encoder was saved."""
    import longseq.steps.pretrain
    from longseq.core.data import TrainingDiverged

    monkeypatch.setattr(longseq.steps.pretrain, "_mean_loss", lambda *args, **kwargs: float("nan"))
    settings = {"window": 8, "max_epochs": 2}
    with pytest.raises(
        TrainingDiverged, match=r"d/syn: pretraining diverged: .* no encoder was written\. Try a lower lr"
    ):
        pretrain_encoder(token_dataset, MODEL, settings, torch.device("cpu"), progress=False, where="d/syn")


def test_next_token_self_pretraining_learns_what_follows_and_is_one_job_at_its_own_seed(tmp_path):
    """Records count up by one (mod 10) from a random start: the next token is certain given
    the last, while the unigram entropy is log 10 = 2.30 nats."""

    ds = _counting_dataset((20, 40))
    settings = {
        "objective": "next_token",
        "window": 40,
        "max_epochs": 15,
        "patience": 15,
        "lr": 0.03,
        "batch_size": 8,
        "seed": 7,
    }
    runs = [pretrain_encoder(ds, MODEL, settings, CPU, progress=False, seed=s) for s in (0, 1)]
    assert runs[0][1]["best_valid_loss"] < 0.5 < np.log(10)
    assert runs[0][1]["seed"] == runs[1][1]["seed"] == 7  # the pretraining's seed, not the run's
    torch.testing.assert_close(runs[0][0], runs[1][0])
    assert runs[0][1]["steps_read"] == 15 * int(ds.splits["train"].lengths.sum())  # whole records


def test_a_pretrained_runs_cost_counts_its_pretraining(tmp_path, token_dataset):
    from longseq.steps.evaluate import evaluate
    from longseq.steps.saved import save_model, write_history

    settings = {"objective": "next_token", "window": 30, "max_epochs": 2, "batch_size": 4}
    state, pretrained = pretrain_encoder(token_dataset, MODEL, settings, CPU, progress=False)
    save_encoder(state, token_dataset, MODEL, tmp_path / "encoder.pt")
    write_history(pretrained, tmp_path / "history.json")
    budget = {"max_updates": 4, "eval_every": 2, "min_updates": 4, "warmup": 1, "batch_size": 4}
    model, history = train_model(
        token_dataset, MODEL, budget, 0, CPU, False, init_encoder=tmp_path / "encoder.pt"
    )
    save_model(model, token_dataset, MODEL, tmp_path / "m.pt")
    write_history(history, tmp_path / "h.json")
    metrics = evaluate(tmp_path / "m.pt", tmp_path / "h.json", token_dataset, CPU)
    assert metrics["pretrain_seconds"] == pretrained["train_seconds"] > 0
    assert metrics["train_seconds"] == pytest.approx(history["train_seconds"] + pretrained["train_seconds"])
    assert metrics["steps_read"] == history["steps_read"] + pretrained["steps_read"] > history["steps_read"]


@pytest.mark.parametrize("kind", ["tokens", "signal"])
@pytest.mark.parametrize("model", [MODEL, CONV], ids=["lstm", "conv_lstm"])
def test_next_token_loss_equals_a_loop_over_each_record_alone(model, kind, token_dataset, signal_dataset):
    """The batched loss (padded records of several lengths, stride 1 or 4) against a loop over
    each record run by itself: every output t predicts the steps of the summary after it, and
    only valid steps are targets, so padding is never read nor predicted."""
    from longseq.core.settings import PRETRAIN_DEFAULTS
    from longseq.steps.pretrain import objective_model

    ds = token_dataset if kind == "tokens" else signal_dataset
    cfg = {**PRETRAIN_DEFAULTS, "objective": "next_token", "window": 64}
    cfg["encoder"] = model.get("type", "lstm")
    train = ds.splits["train"]
    torch.manual_seed(0)
    objective = objective_model(ds, model, cfg, train).eval()
    rows = list(range(6))
    lengths = torch.as_tensor(train.lengths[rows])
    assert len(set(lengths.tolist())) > 1
    records = [torch.as_tensor(np.asarray(train[r]))[None] for r in rows]
    x = torch.zeros(len(rows), int(lengths.max()), *records[0].shape[2:], dtype=records[0].dtype)
    for i, record in enumerate(records):
        x[i, : lengths[i]] = record[0]
    with torch.no_grad():
        batched = objective.loss(x, lengths)
        errors = []  # one per predicted step: its cross-entropy, or its squared error per channel
        enc, s = objective.encoder, objective.stride
        for seq in records:
            h = enc.inputs(seq)
            out, _ = enc.lstm(h if enc.front is None else enc.front(h, None, None)[0])
            predicted = objective.out(out[0]).view(out.shape[1], s, -1)
            for t in range(out.shape[1]):
                for j in range(s):
                    step = (t + 1) * s + j
                    if step >= seq.shape[1]:
                        continue
                    if kind == "tokens":
                        target = objective.target_of[seq[0, step]][None]
                        errors.append(torch.nn.functional.cross_entropy(predicted[t, j][None], target)[None])
                    else:
                        errors.append((predicted[t, j] - h[0, step]) ** 2)
    torch.testing.assert_close(batched, torch.cat(errors).mean(), rtol=1e-5, atol=1e-6)


def test_the_learned_summarizer_pretrains_on_what_follows_each_summary_and_starts_its_arm(tmp_path):
    """`encoder: conv_lstm`: the front end is causal, so summary t has read no step of summary
    t + 1 (checked by changing those steps); on counting records the next 4 tokens are certain
    given the summary, and the pretrained front end, LSTM and embedding start the classifier."""
    from longseq.core.settings import PRETRAIN_DEFAULTS
    from longseq.steps.pretrain import objective_model

    ds = _counting_dataset((21, 43))
    settings = {"objective": "next_token", "encoder": "conv_lstm", "window": 48, "max_epochs": 25}
    settings |= {"patience": 25, "lr": 0.03, "batch_size": 8}
    state, history = pretrain_encoder(ds, CONV, settings, CPU, progress=False, seed=3)
    assert history["best_valid_loss"] < 0.5 < np.log(10)
    encoder = objective_model(ds, CONV, {**PRETRAIN_DEFAULTS, **settings}, ds.splits["train"]).encoder.eval()
    x = torch.as_tensor(ds.splits["test"][0][:32])[None].long()
    changed = x.clone()
    changed[0, 12:] = 2 + (changed[0, 12:] + 5) % 10
    with torch.no_grad():
        a, b = (encoder.lstm(encoder.front(encoder.inputs(v), None, None)[0])[0] for v in (x, changed))
    torch.testing.assert_close(a[:, :3], b[:, :3])  # summaries 0-2 read steps 0-11 only
    assert not torch.allclose(a[:, 3:], b[:, 3:])
    save_encoder(state, ds, CONV, tmp_path / "enc.pt")
    model = build_model(ds, CONV | {"readout": "max"})
    init_from_encoder(model, ds, tmp_path / "enc.pt")
    for name in (
        "front.convs.0.weight",
        "front.norms.1.running_var",
        "lstm.weight_hh_l0",
        "inputs.embed.weight",
    ):
        torch.testing.assert_close(model.state_dict()[name], state[name])
    with pytest.raises(ValueError, match="pretrained with 'encoder: conv_lstm'.*needs 'encoder: lstm'"):
        init_from_encoder(build_model(ds, MODEL), ds, tmp_path / "enc.pt")
