import os
import time

import numpy as np
import pytest

from longseq.core import data
from longseq.core.data import DataError, Dataset, Split
from longseq.sources._splits import stratified_split


def test_round_trip_keeps_every_sequence(tmp_path, token_dataset, signal_dataset):
    for ds in (token_dataset, signal_dataset):
        data.save(ds, tmp_path / ds.kind)
        back = data.load(tmp_path / ds.kind)
        assert back.kind == ds.kind and back.classes == ds.classes
        for name in data.SPLITS:
            a, b = ds.splits[name], back.splits[name]
            assert len(a) == len(b)
            np.testing.assert_array_equal(a.labels, b.labels)
            np.testing.assert_array_equal(a.origin, b.origin)
            for i in range(len(a)):
                np.testing.assert_array_equal(a[i], b[i])
                assert b[i].dtype == a[i].dtype
        assert back.meta["splits"]["train"]["n"] == len(ds.splits["train"])


def test_large_set_loads_memory_mapped_in_well_under_a_second(tmp_path):
    n, length = 25_000, 2_000
    offsets = np.arange(n + 1, dtype=np.int64) * length
    values = np.ones(n * length, dtype=np.int32) * 2
    labels = np.arange(n) % 2
    split = Split(values, offsets, labels, np.arange(n))
    ds = Dataset("tokens", ["a", "b"], {"train": split, "valid": split, "test": split}, {"vocab_size": 3})
    data.save(ds, tmp_path / "big")
    started = time.perf_counter()
    back = data.load(tmp_path / "big")
    elapsed = time.perf_counter() - started
    assert isinstance(back.splits["train"].values, np.memmap)
    assert len(back.splits["test"][n - 1]) == length
    assert elapsed < 0.5, f"loading took {elapsed:.2f} s"


def test_failed_save_leaves_previous_output_untouched(tmp_path, token_dataset):
    target = tmp_path / "ds"
    data.save(token_dataset, target)
    before = sorted(p.name for p in target.iterdir())
    broken = Dataset("tokens", token_dataset.classes, dict(token_dataset.splits), dict(token_dataset.meta))
    broken.splits["train"] = Split.from_sequences([np.array([], dtype=np.int32)], [0])
    with pytest.raises(DataError, match="empty sequences in train record 0"):
        data.save(broken, target)
    assert sorted(p.name for p in target.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folder left behind
    assert len(data.load(target).splits["train"]) == len(token_dataset.splits["train"])


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda s: s.values.__setitem__(3, np.nan), r"NaN or inf in valid record \d+ \(the first at step 3 "),
        (lambda s: s.labels.__setitem__(0, 7), r"outside the 3 classes \(e.g. 7\) in valid record \d+$"),
        (
            lambda s: s.labels.__setitem__(slice(None), 9),
            r"outside the 3 classes \(e.g. 9\) in valid \d+ records: ",
        ),
    ],
)
def test_validate_names_the_records(signal_dataset, corrupt, message):
    """How many records are affected and the first few, by their number in the source."""
    corrupt(signal_dataset.splits["valid"])
    with pytest.raises(DataError, match=message) as info:
        data.validate(signal_dataset, "somewhere.ts")
    assert str(info.value).startswith("somewhere.ts: ")


def test_nonfinite_rows_against_a_loop(signal_dataset):
    split = signal_dataset.splits["train"]
    for row, step in ((0, 0), (2, 5), (len(split) - 1, int(split.lengths[-1]) - 1)):
        split.values[split.offsets[row] + step, 0] = np.inf if row else np.nan
    expected = [
        r
        for r in range(len(split))
        if not np.isfinite(split.values[split.offsets[r] : split.offsets[r + 1]]).all()
    ]
    assert data.nonfinite_rows(split).tolist() == expected == [0, 2, len(split) - 1]


def test_stratified_split_is_seeded_and_disjoint():
    labels = np.array([0] * 50 + [1] * 30)
    fractions = {"valid": 0.1, "test": 0.2, "train": 0.7}
    a = stratified_split(labels, fractions, seed=4)
    assert {k: v.tolist() for k, v in a.items()} == {
        k: v.tolist() for k, v in stratified_split(labels, fractions, 4).items()
    }
    assert sorted(np.concatenate(list(a.values())).tolist()) == list(range(80))
    assert np.bincount(labels[a["test"]]).tolist() == [10, 6]


def test_crash_while_writing_removes_the_temporary_folder(tmp_path, token_dataset, monkeypatch):
    calls = {"n": 0}
    real_save = np.save

    def failing_save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError):
        data.save(token_dataset, tmp_path / "ds")
    assert list(tmp_path.iterdir()) == []


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    """Temporary files start private (0600/0700); the results must not stay that way."""
    old = os.umask(0o022)
    try:
        data.atomic_write_bytes(tmp_path / "f.bin", b"x")
        with data.atomic_dir(tmp_path / "d") as folder:
            (folder / "inner").write_text("y")
    finally:
        os.umask(old)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("umask", [0o000, 0o077, 0o022])
def test_results_are_group_readable_and_never_world_writable(tmp_path, umask):
    """On a shared cluster a lab reads each other's results; nobody else may change them."""
    import os
    import stat

    from longseq.core.data import atomic_dir, atomic_write_bytes

    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "model.pt", b"weights")
        with atomic_dir(tmp_path / "folder") as out:
            (out / "values.npy").write_bytes(b"x")
    finally:
        os.umask(old)
    for path in (tmp_path / "model.pt", tmp_path / "folder", tmp_path / "folder" / "values.npy"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & stat.S_IRGRP and not mode & stat.S_IWOTH, (path.name, oct(mode))
