import numpy as np
import pytest
import torch

from longseq.models import build_model
from longseq.pretrain import cut_windows, pretrain_encoder
from longseq.reducers import draw, reduce_dataset
from longseq.saved import init_from_encoder, save_encoder
from longseq.train import train_model

MODEL = {"hidden": 8, "embedding": 4}
CPU = torch.device("cpu")


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
    import longseq.pretrain
    from longseq.data import TrainingDiverged

    monkeypatch.setattr(longseq.pretrain, "_mean_loss", lambda *args, **kwargs: float("nan"))
    settings = {"window": 8, "max_epochs": 2}
    with pytest.raises(
        TrainingDiverged, match=r"d/syn: pretraining diverged: .* no encoder was written\. Try a lower lr"
    ):
        pretrain_encoder(token_dataset, MODEL, settings, torch.device("cpu"), progress=False, where="d/syn")
