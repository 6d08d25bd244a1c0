"""Property-based tests (Hypothesis) of every reducer and of the data format: any valid data
set in, a valid data set out, every record kept once (with its label and origin), offsets
consistent with the lengths, and the run's draws (samples, projections) reproducible."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longseq.core.data import SPLITS, Dataset, Split, validate
from longseq.reducers import draw, reduce_dataset

VOCAB = 30


@st.composite
def datasets(draw_, kind=None):
    kind = kind or draw_(st.sampled_from(["tokens", "signal"]))
    channels = draw_(st.integers(1, 3))
    splits = {}
    first = 0
    for name in SPLITS:
        n = draw_(st.integers(1, 6))
        lengths = draw_(st.lists(st.integers(1, 40), min_size=n, max_size=n))
        labels = draw_(st.lists(st.integers(0, 1), min_size=n, max_size=n))
        rng = np.random.default_rng(draw_(st.integers(0, 2**16)))
        if kind == "tokens":
            seqs = [rng.integers(2, VOCAB, size=t).astype(np.int32) for t in lengths]
        else:
            seqs = [rng.normal(size=(t, channels)).astype(np.float32) for t in lengths]
        splits[name] = Split.from_sequences(seqs, labels, np.arange(first, first + n))
        first += n
    meta = {"vocab_size": VOCAB} if kind == "tokens" else {"channels": [f"c{i}" for i in range(channels)]}
    return Dataset(kind, ["a", "b"], splits, meta)


ARMS = st.one_of(
    st.just({"reduce": "full"}),
    st.builds(
        lambda k, n: {"reduce": "truncate", "keep": k, "length": n},
        st.sampled_from(["first", "last"]),
        st.integers(1, 50),
    ),
    st.builds(lambda n: {"reduce": "summarize", "drop_top": n}, st.integers(0, 10)),
    st.builds(
        lambda w, s: {"reduce": "summarize", "window": w, "stats": s},
        st.integers(1, 12),
        st.sampled_from([["mean"], ["max", "std"]]),
    ),
    st.builds(
        lambda m, n, c, v: {"reduce": "sample", "mode": m, "length": n, "train_copies": c, "eval_views": v},
        st.sampled_from(["timesteps", "window"]),
        st.integers(1, 50),
        st.integers(1, 3),
        st.integers(1, 3),
    ),
    st.builds(lambda k: {"reduce": "parallel", "pieces": k}, st.integers(2, 4)),
    st.builds(
        lambda n, b: {"reduce": "project", "ngram": n, "buckets": b}, st.integers(2, 4), st.integers(2, 64)
    ),
    st.builds(
        lambda w, d: {"reduce": "project", "window": w, "dims": d}, st.integers(1, 8), st.integers(1, 5)
    ),
)


def fits(ds, arm):
    """The arm applies to the kind (token options for tokens, window options for signals) and
    every record is long enough (parallel: a step per piece)."""
    token_only = {"drop_top", "ngram", "buckets"}
    signal_only = {"window", "stats", "dims"}
    if ds.kind == "tokens" and signal_only & set(arm):
        return False
    if ds.kind == "signal" and token_only & set(arm):
        return False
    if arm["reduce"] == "parallel":
        return all(s.lengths.min() >= arm["pieces"] for s in ds.splits.values())
    return True


def offsets_consistent(split):
    assert split.offsets[0] == 0 and split.offsets[-1] == len(split.values)
    assert (np.diff(split.offsets) == split.lengths).all() and (split.lengths >= 1).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), ARMS, st.integers(0, 5))
def test_any_valid_data_set_reduces_to_a_valid_one_with_every_record_once(ds, arm, seed):
    if not fits(ds, arm):
        return
    out = reduce_dataset(ds, arm)
    run = draw(out, seed, epoch=1)
    validate(run, "reduced")
    copies = {
        "train": arm.get("train_copies", 1),
        "valid": arm.get("eval_views", 1),
        "test": arm.get("eval_views", 1),
    }
    for name in SPLITS:
        before, after = ds.splits[name], run.splits[name]
        offsets_consistent(after)
        k = copies[name] if arm["reduce"] == "sample" else 1
        # every record k times (sampled copies), no record lost, none from elsewhere
        assert sorted(after.origin.tolist()) == sorted(before.origin.tolist() * k)
        label_of = dict(zip(before.origin.tolist(), before.labels.tolist()))
        assert all(label_of[o] == y for o, y in zip(after.origin.tolist(), after.labels.tolist()))
        if arm["reduce"] == "truncate":
            assert (after.lengths == np.minimum(before.lengths, arm["length"])).all()
        if arm["reduce"] == "sample":
            assert (after.lengths <= arm["length"]).all()
    # the same seed draws the same samples and projection; the data set itself is not changed
    again = draw(reduce_dataset(ds, arm), seed, epoch=1)
    for name in SPLITS:
        np.testing.assert_array_equal(again.splits[name].values, run.splits[name].values)


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_the_format_round_trips_through_disk(tmp_path_factory, ds):
    from longseq.core import data

    folder = tmp_path_factory.mktemp("ds") / "d"
    data.save(ds, folder)
    back = data.load(folder)
    for name in SPLITS:
        a, b = ds.splits[name], back.splits[name]
        offsets_consistent(b)
        for i in range(len(a)):
            np.testing.assert_array_equal(a[i], b[i])
        assert (a.labels == b.labels).all() and (a.origin == b.origin).all()
