import numpy as np
import pytest
import torch

from longseq.core.data import Split
from longseq.core.settings import ModelConfig
from longseq.models.lstm import LSTMClassifier
from longseq.steps.batches import average_views, collate, length_batches


def test_padded_batch_equals_unpadded_single_sequences():
    torch.manual_seed(0)
    model = LSTMClassifier(
        "tokens", 20, 3, ModelConfig.from_dict(dict(hidden=8, embedding=4, layers=2))
    ).eval()
    rng = np.random.default_rng(0)
    seqs = [rng.integers(2, 20, size=n).astype(np.int32) for n in (3, 11, 7, 1, 11)]
    split = Split.from_sequences(seqs, [0] * 5)
    x, lengths = collate(split, np.arange(5), torch.device("cpu"))
    assert x.shape == (5, 11)
    with torch.no_grad():
        batched = model(x, lengths)
        for i, seq in enumerate(seqs):
            alone = model(torch.from_numpy(seq).long()[None], torch.tensor([len(seq)]))
            torch.testing.assert_close(batched[i], alone[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scaling", ["standard", "robust", "log"])
def test_signal_scaling_is_fitted_on_train_only(scaling):
    rng = np.random.default_rng(1)
    # idle readings with rare bursts a thousand times larger, like ACSF1's power
    train_values = [
        np.abs(rng.normal(1, 0.5, size=(30, 2))) * np.where(rng.random((30, 2)) < 0.1, 1000, 1)
        for _ in range(4)
    ]
    train = Split.from_sequences([v.astype(np.float32) for v in train_values], [0, 1, 0, 1])
    model = LSTMClassifier("signal", 2, 2, ModelConfig.from_dict(dict(hidden=4, scaling=scaling)))
    model.fit_normalisation(train)
    raw = np.asarray(train.values, dtype=np.float64)
    seen = np.log1p(raw) if scaling == "log" else raw  # all values are positive here
    if scaling == "robust":
        center = np.median(seen, axis=0)
        scale = (np.quantile(seen, 0.75, axis=0) - np.quantile(seen, 0.25, axis=0)) / 1.349
    else:
        center, scale = seen.mean(0), seen.std(0)
    np.testing.assert_allclose(model.inputs.center.numpy(), center, rtol=1e-5)
    np.testing.assert_allclose(model.inputs.scale.numpy(), scale, rtol=1e-5)
    scaled = model.inputs(torch.from_numpy(np.asarray(train.values))).numpy()
    np.testing.assert_allclose(scaled, (seen - center) / scale, rtol=1e-4, atol=1e-4)
    if scaling == "log":  # the bursts no longer dwarf the idle readings
        assert np.abs(scaled).max() < 10


def test_chrono_init_spreads_forget_biases_over_the_steps_read():
    torch.manual_seed(0)
    steps, hidden = 500, 64
    model = LSTMClassifier(
        "tokens", 10, 2, ModelConfig.from_dict(dict(hidden=hidden, init="chrono")), steps=steps
    )
    b = (model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0).detach()
    forget, inputs = b[hidden : 2 * hidden], b[:hidden]
    assert forget.min() >= 0 and forget.max() <= np.log(steps - 1)
    assert forget.max() > np.log(steps / 4)  # some units remember for hundreds of steps
    torch.testing.assert_close(inputs, -forget)
    memory = 1 / (1 - torch.sigmoid(forget))  # steps a unit keeps its cell, 1 / (1 - f)
    assert memory.max() > 100 and memory.min() < 10
    w = model.lstm.weight_hh_l0.detach()
    for gate in range(4):
        block = w[gate * hidden : (gate + 1) * hidden]
        torch.testing.assert_close(block @ block.T, torch.eye(hidden), atol=1e-5, rtol=0)


def test_constant_init_sets_every_forget_bias():
    model = LSTMClassifier(
        "tokens", 10, 2, ModelConfig.from_dict(dict(hidden=6, init="constant", forget_bias=2.0)), steps=500
    )
    total = model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0
    assert torch.allclose(total[6:12], torch.full((6,), 2.0))


def test_length_batches_cover_every_row_once_and_bucket():
    lengths = np.random.default_rng(2).integers(1, 500, size=1000)
    batches = length_batches(lengths, 10, np.random.default_rng(3))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 50  # random batches would span ~400 steps


def test_average_views_groups_by_origin():
    split = Split.from_sequences([np.zeros(1, np.int32)] * 4, [1, 1, 0, 0], origin=[7, 7, 3, 3])
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0], [0.0, 1.0]])
    mean, labels = average_views(probs, split)
    np.testing.assert_allclose(mean, [[0.4, 0.6], [0.5, 0.5]])
    assert labels.tolist() == [1, 0]


def test_bag_baseline_ignores_order_and_padding():
    from longseq.models.bag import BagClassifier

    torch.manual_seed(0)
    for kind, n_inputs in (("tokens", 20), ("signal", 3)):
        model = BagClassifier(kind, n_inputs, 2, ModelConfig.from_dict(dict(hidden=5, embedding=4))).eval()
        rng = np.random.default_rng(0)
        if kind == "tokens":
            seq = torch.from_numpy(rng.integers(2, 20, size=9)).long()
            padded = torch.cat([seq, torch.zeros(4, dtype=torch.long)])
        else:
            seq = torch.from_numpy(rng.normal(size=(9, 3)).astype(np.float32))
            padded = torch.cat([seq, torch.full((4, 3), 7.0)])
        with torch.no_grad():
            alone = model(seq[None], torch.tensor([9]))
            shuffled = model(seq[torch.randperm(9)][None], torch.tensor([9]))
            in_batch = model(padded[None], torch.tensor([9]))
        torch.testing.assert_close(alone, shuffled)
        torch.testing.assert_close(alone, in_batch)


def test_parallel_token_streams_padded_equals_unpadded():
    torch.manual_seed(1)
    model = LSTMClassifier(
        "tokens", 20, 2, ModelConfig.from_dict(dict(hidden=6, embedding=3)), streams=2
    ).eval()
    rng = np.random.default_rng(1)
    seqs = [rng.integers(2, 20, size=(n, 2)).astype(np.int32) for n in (4, 9)]
    x, lengths = collate(Split.from_sequences(seqs, [0, 1]), np.arange(2), torch.device("cpu"))
    assert x.shape == (2, 9, 2)
    with torch.no_grad():
        batched = model(x, lengths)
        for i, seq in enumerate(seqs):
            alone = model(torch.from_numpy(seq).long()[None], torch.tensor([len(seq)]))
            torch.testing.assert_close(batched[i], alone[0])


def test_reverse_valid_keeps_padding_in_place():
    from longseq.models.segments import reverse_valid

    h = torch.arange(10.0).view(2, 5, 1)
    out = reverse_valid(h, torch.tensor([5, 3]))
    assert out[:, :, 0].tolist() == [[4, 3, 2, 1, 0], [7, 6, 5, 8, 9]]


def test_segments_model_reads_halves_from_both_ends_and_ignores_batch_padding():
    from longseq.core.data import Dataset
    from longseq.models.segments import SegmentClassifier, reverse_valid
    from longseq.reducers import reduce_dataset

    torch.manual_seed(0)
    rng = np.random.default_rng(4)
    seqs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (9, 14)]
    ds = Dataset(
        "signal",
        ["a", "b"],
        {s: Split.from_sequences(seqs, [0, 1]) for s in ("train", "valid", "test")},
        {"channels": ["c0", "c1"]},
    )
    halves = reduce_dataset(ds, {"reduce": "parallel", "pieces": 2}).splits["train"]
    model = SegmentClassifier(
        "signal", 4, 2, pieces=2, cfg=ModelConfig.from_dict(dict(type="segments", hidden=5))
    ).eval()
    x, lengths = collate(halves, np.arange(2), torch.device("cpu"))
    with torch.no_grad():
        batched = model(x, lengths)
        for i in range(2):
            alone = model(torch.from_numpy(halves[i])[None], torch.tensor([len(halves[i])]))
            torch.testing.assert_close(batched[i], alone[0])
        # the second piece is read backwards: the same as its LSTM on the time-flipped piece
        second = torch.from_numpy(halves[1][:, 2:])
        flipped = model.lstms[1](second.flip(0)[None])[0][0, -1]
        via_model = model.lstms[1](reverse_valid(second[None], torch.tensor([len(second)])))[0][0, -1]
        torch.testing.assert_close(flipped, via_model)


def test_chunk_encoder_summarizes_windows_and_ignores_batch_padding():
    from longseq.models.chunk_encoder import ChunkEncoderClassifier

    torch.manual_seed(2)
    encoder = LSTMClassifier("tokens", 20, 2, ModelConfig.from_dict(dict(hidden=6, embedding=3)))
    model = ChunkEncoderClassifier(
        encoder, 2, ModelConfig.from_dict(dict(type="chunk_encoder", chunk=4, hidden=5))
    ).eval()
    rng = np.random.default_rng(5)
    seqs = [rng.integers(2, 20, size=n).astype(np.int32) for n in (13, 6, 8)]
    x, lengths = collate(Split.from_sequences(seqs, [0, 1, 0]), np.arange(3), torch.device("cpu"))
    with torch.no_grad():
        batched = model(x, lengths)
        for i, seq in enumerate(seqs):
            alone = model(torch.from_numpy(seq).long()[None], torch.tensor([len(seq)]))
            torch.testing.assert_close(batched[i], alone[0])
            # by hand: windows of 4 summarized by the encoder's last valid output
            pieces = [torch.from_numpy(seq[s : s + 4]).long()[None] for s in range(0, len(seq), 4)]
            summaries = torch.stack([encoder.run(p)[0][0, -1] for p in pieces])[None]
            out, _ = model.lstm(summaries)
            torch.testing.assert_close(alone[0], model.head(out[0, -1]))


def test_frozen_chunk_encoder_gets_no_gradient():
    from longseq.models.chunk_encoder import ChunkEncoderClassifier

    model = ChunkEncoderClassifier(
        LSTMClassifier("tokens", 20, 2, ModelConfig.from_dict(dict(hidden=4, embedding=3))),
        2,
        ModelConfig.from_dict(dict(type="chunk_encoder", chunk=3, hidden=4, freeze=True)),
    )
    x = torch.randint(2, 20, (2, 7))
    model(x, torch.tensor([7, 5])).sum().backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert model.lstm.weight_ih_l0.grad is not None
