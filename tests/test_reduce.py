import numpy as np
import pytest

from longseq.core.data import Dataset, Split, token_ranks
from longseq.reducers import draw, draw_split, reduce_dataset


def seqs(split):
    return [np.asarray(s) for s in split]


def is_subsequence(small, big):
    """True when `small` appears in `big` in the same order (not necessarily contiguous)."""
    it = iter(big.tolist() if big.ndim == 1 else [tuple(r) for r in big])
    items = small.tolist() if small.ndim == 1 else [tuple(r) for r in small]
    return all(any(x == y for y in it) for x in items)


def test_full_is_identity(token_dataset):
    out = reduce_dataset(token_dataset, {"reduce": "full"})
    for a, b in zip(seqs(out.splits["test"]), seqs(token_dataset.splits["test"])):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("keep", ["first", "last"])
def test_truncate_keeps_the_chosen_end(token_dataset, keep):
    out = reduce_dataset(token_dataset, {"reduce": "truncate", "keep": keep, "length": 10})
    for name, split in token_dataset.splits.items():
        for full, cut in zip(seqs(split), seqs(out.splits[name])):
            assert len(cut) == min(10, len(full))
            expected = full[:10] if keep == "first" else full[-10:]
            np.testing.assert_array_equal(cut, expected)
        np.testing.assert_array_equal(out.splits[name].labels, split.labels)


def test_summarize_tokens_drops_the_most_frequent_train_tokens(token_dataset):
    ranks = token_ranks(token_dataset.splits["train"], token_dataset.vocab_size)
    top = set(np.flatnonzero(ranks < 3).tolist())
    out = reduce_dataset(token_dataset, {"reduce": "summarize", "drop_top": 3})
    for name, split in token_dataset.splits.items():
        for full, kept in zip(seqs(split), seqs(out.splits[name])):
            expected = np.array([t for t in full if t not in top])
            if len(expected):
                np.testing.assert_array_equal(kept, expected)  # order kept, only top dropped
            else:
                assert kept.tolist() == [1]  # emptied sequences become one <unk>


def test_summarize_ranks_come_from_train_only(token_dataset):
    """Flooding valid/test with one token must not change which tokens are dropped."""
    arm = {"reduce": "summarize", "drop_top": 2}
    before = reduce_dataset(token_dataset, arm)
    flooded = Dataset(
        token_dataset.kind, token_dataset.classes, dict(token_dataset.splits), token_dataset.meta
    )
    n = len(token_dataset.splits["test"])
    flooded.splits["test"] = Split.from_sequences(
        [np.full(50, 11, dtype=np.int32)] * n, token_dataset.splits["test"].labels
    )
    after = reduce_dataset(flooded, arm)
    np.testing.assert_array_equal(before.splits["train"].values, after.splits["train"].values)
    assert before.meta["rank_window"] == after.meta["rank_window"]


def test_summarize_rank_window(token_dataset):
    ranks = token_ranks(token_dataset.splits["train"], token_dataset.vocab_size)
    out = reduce_dataset(token_dataset, {"reduce": "summarize", "rank_window": [2, 5]})
    kept = np.asarray(out.splits["train"].values)
    kept = kept[kept != 1]
    assert set(ranks[kept].tolist()) <= {2, 3, 4}


def test_summarize_signal_windows(signal_dataset):
    out = reduce_dataset(signal_dataset, {"reduce": "summarize", "window": 5, "stats": ["mean", "max"]})
    full, small = signal_dataset.splits["train"][0], out.splits["train"][0]
    assert small.shape == (len(full) // 5, 6)
    np.testing.assert_allclose(small[0, :3], full[:5].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(
        small[-1, 3:], full[(len(full) // 5 - 1) * 5 : (len(full) // 5) * 5].max(axis=0)
    )


@pytest.mark.parametrize("mode", ["timesteps", "window"])
def test_sample_keeps_order_and_length_and_is_seeded(signal_dataset, mode):
    arm = {"reduce": "sample", "mode": mode, "length": 15, "train_copies": 3, "eval_views": 2}
    out = reduce_dataset(signal_dataset, arm)
    train = signal_dataset.splits["train"]
    sampled = draw_split(out, "train", seed=5, epoch=1)
    assert len(sampled) == 3 * len(train)
    np.testing.assert_array_equal(sampled.origin, np.repeat(train.origin, 3))
    np.testing.assert_array_equal(sampled.labels, np.repeat(train.labels, 3))
    assert len(draw_split(out, "test", seed=5)) == 2 * len(signal_dataset.splits["test"])
    for i in range(len(sampled)):
        full = train[i // 3]
        piece = sampled[i]
        assert len(piece) == min(15, len(full))
        if mode == "window":
            starts = [s for s in range(len(full) - 14) if np.array_equal(full[s : s + 15], piece)]
            assert starts, "a window must be contiguous"
        else:
            assert is_subsequence(piece, full)
    again = draw_split(reduce_dataset(signal_dataset, arm), "train", seed=5, epoch=1)
    np.testing.assert_array_equal(again.values, sampled.values)
    other = draw_split(out, "train", seed=6, epoch=1)
    assert not np.array_equal(other.values, sampled.values)


def test_sample_leaves_short_sequences_whole(token_dataset):
    out = reduce_dataset(token_dataset, {"reduce": "sample", "length": 1000})
    np.testing.assert_array_equal(out.splits["valid"].values, token_dataset.splits["valid"].values)


def test_unknown_reducer_is_refused(token_dataset):
    with pytest.raises(ValueError, match="unknown reduce"):
        reduce_dataset(token_dataset, {"reduce": "squash"})


def test_parallel_pieces_read_side_by_side(token_dataset, signal_dataset):
    out = reduce_dataset(signal_dataset, {"reduce": "parallel", "pieces": 3})
    full, par = signal_dataset.splits["train"][0], out.splits["train"][0]
    steps = -(-len(full) // 3)
    assert par.shape == (steps, 9)
    np.testing.assert_array_equal(par[:, 0:3], full[:steps])  # piece 0 = the first steps
    np.testing.assert_array_equal(par[: len(full) - 2 * steps, 6:9], full[2 * steps :])
    toks = reduce_dataset(token_dataset, {"reduce": "parallel", "pieces": 2})
    seq, par = token_dataset.splits["test"][1], toks.splits["test"][1]
    assert par.shape == (-(-len(seq) // 2), 2) and toks.meta["streams"] == 2
    np.testing.assert_array_equal(par[:, 0], seq[: len(par)])
    np.testing.assert_array_equal(par.T.reshape(-1)[: len(seq)], seq)  # nothing lost, order kept


def test_project_tokens_hashes_ngrams_consistently(token_dataset):
    out = reduce_dataset(token_dataset, {"reduce": "project", "ngram": 3, "buckets": 50})
    seq, hashed = token_dataset.splits["train"][0], out.splits["train"][0]
    assert len(hashed) == max(1, len(seq) // 3) and hashed.min() >= 2 and hashed.max() < 52
    assert out.vocab_size == 52
    again = reduce_dataset(token_dataset, {"reduce": "project", "ngram": 3, "buckets": 50})
    np.testing.assert_array_equal(again.splits["test"].values, out.splits["test"].values)
    # the same trigram gets the same id wherever it occurs
    from longseq.reducers.project import _ngram_ids

    ids = _ngram_ids(np.array([5, 6, 7, 9, 9, 9, 5, 6, 7], dtype=np.int32), 3, 50)
    assert ids[0] == ids[2] != ids[1]


def test_project_signals_is_a_fixed_linear_map(signal_dataset):
    arm = {"reduce": "project", "window": 4, "dims": 5}
    out = draw(reduce_dataset(signal_dataset, arm), seed=1)
    seq, proj = signal_dataset.splits["valid"][0], out.splits["valid"][0]
    assert proj.shape == (len(seq) // 4, 5)
    doubled = Dataset(
        "signal",
        signal_dataset.classes,
        {k: Split.from_sequences([s * 2 for s in v], v.labels) for k, v in signal_dataset.splits.items()},
        signal_dataset.meta,
    )
    np.testing.assert_allclose(
        draw(reduce_dataset(doubled, arm), seed=1).splits["valid"][0], 2 * proj, rtol=1e-5
    )


INSTANCE = {"model": {"scaling": "instance"}}


def test_instance_scaling_fits_nothing_and_a_view_keeps_its_records_scaling(signal_dataset):
    """Each record is standardised by its own statistics, computed here in a plain loop; changing
    other records (train included) changes nothing; a truncated view is the cut of the scaled
    whole record, not re-standardised."""
    full = reduce_dataset(signal_dataset, {"reduce": "full", **INSTANCE})
    for name, split in signal_dataset.splits.items():
        for record, scaled in zip(seqs(split), seqs(full.splits[name])):
            record = record.astype(np.float64)
            for c in range(record.shape[1]):
                mean = sum(record[:, c]) / len(record)
                std = (sum((v - mean) ** 2 for v in record[:, c]) / len(record)) ** 0.5
                np.testing.assert_allclose(scaled[:, c], (record[:, c] - mean) / std, rtol=1e-5, atol=1e-5)
    others = Dataset(
        signal_dataset.kind, signal_dataset.classes, dict(signal_dataset.splits), signal_dataset.meta
    )
    train = others.splits["train"]
    others.splits["train"] = Split(train.values * 1000 + 7, train.offsets, train.labels, train.origin)
    again = reduce_dataset(others, {"reduce": "full", **INSTANCE})
    np.testing.assert_array_equal(again.splits["test"].values, full.splits["test"].values)
    last = reduce_dataset(signal_dataset, {"reduce": "truncate", "keep": "last", "length": 8, **INSTANCE})
    for whole, view in zip(seqs(full.splits["test"]), seqs(last.splits["test"])):
        np.testing.assert_array_equal(view, whole[-8:])
    assert last.meta["arm"]["model"] == {"scaling": "instance"}  # what longseq predict re-applies


def test_instance_scaling_leaves_the_models_inputs_unfitted(signal_dataset):
    import torch

    from longseq.core.settings import ModelConfig
    from longseq.models.lstm import LSTMClassifier

    model = LSTMClassifier("signal", 3, 3, ModelConfig.from_dict({"scaling": "instance"}))
    model.fit_normalisation(signal_dataset.splits["train"])
    assert torch.equal(model.inputs.center, torch.zeros(3)) and torch.equal(model.inputs.scale, torch.ones(3))
