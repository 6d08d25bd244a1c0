"""Every reader on small files the tests write: GenBank (also inside a .deb), FASTA, EDF,
NumPy, CSV/TSV/Parquet text, the EEG-like generator, pinned downloads and the data set sheet."""

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from longseq import sources
from longseq.core import data
from longseq.core.data import DataError
from longseq.sources._dna import dna_vocab, encode_dna
from longseq.study.sheet import load_sheet

# ------------------------------------------------------------------ DNA


def write_genbank(path: Path, loci: int = 6, seed: int = 0) -> tuple[Path, list]:
    """Loci of 300 bases: a joined CDS on the plus strand and one on the minus strand, with
    non-coding flanks and an intron between; returns the path and the Biopython records."""
    from Bio import SeqIO
    from Bio.Seq import Seq
    from Bio.SeqFeature import CompoundLocation, FeatureLocation, SeqFeature
    from Bio.SeqRecord import SeqRecord

    rng = np.random.default_rng(seed)
    records = []
    for i in range(loci):
        bases = "".join(rng.choice(list("ACGT"), size=300))
        rec = SeqRecord(Seq(bases), id=f"locus{i}", name=f"locus{i}", annotations={"molecule_type": "DNA"})
        plus = CompoundLocation([FeatureLocation(40, 80, strand=1), FeatureLocation(100, 140, strand=1)])
        minus = FeatureLocation(200, 260, strand=-1)
        rec.features = [SeqFeature(plus, type="CDS"), SeqFeature(minus, type="CDS")]
        records.append(rec)
    SeqIO.write(records, path, "genbank")
    return path, records


def genbank_spec(path, **extra):
    return {"reader": "genbank", "kind": "tokens", "path": str(path), "split": "group", "window": 20} | extra


def test_genbank_cuts_coding_windows_on_their_strand_and_noncoding_elsewhere(tmp_path):
    path, records = write_genbank(tmp_path / "genes.gb")
    recs = sources.ingest(genbank_spec(path, valid_fraction=0.2, test_fraction=0.2, strand="as_read"), "dna")
    rec0 = records[0]
    plus = str(rec0.seq[40:80] + rec0.seq[100:140])
    minus = str(rec0.seq[200:260].reverse_complement())
    expected_coding = [plus[i : i + 20] for i in range(0, 80, 20)] + [
        minus[i : i + 20] for i in range(0, 60, 20)
    ]
    # non-coding stretches: 0-40 (2 windows), 80-100 (1), 140-200 (3), 260-300 (2)
    expected_noncoding = [str(rec0.seq[a : a + 20]) for a in (0, 20, 80, 140, 160, 180, 260, 280)]
    vocab = dna_vocab(1)
    decoded = {}
    for split in recs.splits.values():
        for seq, label, origin in zip(split, split.labels, split.origin):
            decoded.setdefault(int(origin), (label, "".join(vocab[t] for t in seq)))
    per_locus = 7 + 8
    assert len(decoded) == 6 * per_locus
    locus0 = [decoded[i] for i in range(per_locus)]
    assert [s for label, s in locus0 if label == 1] == expected_coding
    assert [s for label, s in locus0 if label == 0] == expected_noncoding
    assert recs.classes == ["non_coding", "coding"]


def test_genbank_random_strand_leaves_orientation_no_clue_to_the_label(tmp_path):
    """By default each window is read from a random strand: as read, every coding window would
    be in sense orientation and every non-coding one the forward strand."""
    from longseq.sources._dna import reverse_complement

    path, _ = write_genbank(tmp_path / "genes.gb", loci=20)
    as_read = sources.ingest(genbank_spec(path, strand="as_read"), "dna")
    randomised = sources.ingest(genbank_spec(path), "dna")
    vocab = dna_vocab(1)

    def windows(ds):
        out = {}
        for split in ds.splits.values():
            for seq, label, origin in zip(split, split.labels, split.origin):
                out[int(origin)] = (int(label), "".join(vocab[t] for t in seq))
        return out

    before, after = windows(as_read), windows(randomised)
    assert before.keys() == after.keys()
    flipped = {0: [], 1: []}
    for origin, (label, bases) in before.items():
        assert after[origin][0] == label
        assert after[origin][1] in (bases, reverse_complement(bases))
        flipped[label].append(after[origin][1] != bases)
    for label in (0, 1):  # both classes: about half of the windows flipped
        assert 0.3 < np.mean(flipped[label]) < 0.7
    assert reverse_complement("AACGTN") == "NACGTT"


def test_genbank_windows_of_one_locus_share_a_split(tmp_path):
    path, _ = write_genbank(tmp_path / "genes.gb", loci=10)
    ds = sources.ingest(genbank_spec(path), "dna")
    locus_of = {}
    for name, split in ds.splits.items():
        for origin in split.origin:
            locus_of.setdefault(int(origin) // 15, set()).add(name)
    assert all(len(s) == 1 for s in locus_of.values())
    assert {n for s in locus_of.values() for n in s} == {"train", "valid", "test"}


def test_encode_dna_bases_and_kmers():
    np.testing.assert_array_equal(encode_dna("ACGTN"), [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(encode_dna("acgtr"), [2, 3, 4, 5, 6])  # lower case; IUPAC R is N
    # non-overlapping 2-mers: AC=1, GT=11, then NA holds N -> unknown
    np.testing.assert_array_equal(encode_dna("ACGTNA", k=2), [2 + 1, 2 + 11, 1])
    assert len(encode_dna("ACGTACGTAC", k=3, stride=1)) == 8
    with pytest.raises(DataError, match=r"record 7: character 'X' at position 3"):
        encode_dna("ACXT", where="record 7")


def write_deb(path: Path, member: str, payload: bytes) -> Path:
    """A minimal Debian package: an ar archive of debian-binary, control.tar.xz and data.tar.xz."""

    def tar_xz(files: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
            for name, blob in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
        return buffer.getvalue()

    parts = {
        "debian-binary": b"2.0\n",
        "control.tar.xz": tar_xz({"./control": b"Package: test\n"}),
        "data.tar.xz": tar_xz({f"./{member}": payload}),
    }
    out = bytearray(b"!<arch>\n")
    for name, blob in parts.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(blob):<10}`\n".encode()
        out += blob + (b"\n" if len(blob) % 2 else b"")
    path.write_bytes(bytes(out))
    return path


def test_genbank_inside_a_deb_is_read_and_its_member_pinned(tmp_path):
    gb, _ = write_genbank(tmp_path / "genes.gb")
    member = "usr/share/doc/tool/genes.gb"
    deb = write_deb(tmp_path / "tool-doc_1.0_all.deb", member, gb.read_bytes())
    spec = genbank_spec(
        deb,
        member=member,
        sha256=sources.sha256_of(deb),
        member_sha256=hashlib.sha256(gb.read_bytes()).hexdigest(),
    )
    from_deb = sources.ingest(spec, "dna")
    plain = sources.ingest(genbank_spec(gb), "dna")
    np.testing.assert_array_equal(from_deb.splits["test"].values, plain.splits["test"].values)
    with pytest.raises(DataError, match="does not match the pinned member_sha256"):
        sources.ingest(spec | {"member_sha256": "0" * 64}, "dna")
    with pytest.raises(DataError, match="has no member 'usr/share/doc/other.gb'"):
        sources.ingest(spec | {"member": "usr/share/doc/other.gb", "member_sha256": None}, "dna")


def test_fasta_labels_from_headers_or_a_label_sheet(tmp_path):
    rng = np.random.default_rng(4)
    seqs = ["".join(rng.choice(list("ACGT"), size=50)) for _ in range(20)]
    fasta = tmp_path / "seqs.fa"
    fasta.write_text(
        "".join(f">s{i} label={'yes' if i % 2 else 'no'} group=g{i // 4}\n{s}\n" for i, s in enumerate(seqs))
    )
    spec = {"reader": "fasta", "path": str(fasta), "split": "group", "group_pattern": r"group=(\S+)"}
    ds = sources.ingest(spec, "fa")
    assert ds.classes == ["no", "yes"] and ds.kind == "tokens"
    groups = {name: {int(o) // 4 for o in s.origin} for name, s in ds.splits.items()}
    assert not (groups["train"] & groups["test"]) and not (groups["train"] & groups["valid"])
    first = {int(o): seq for s in ds.splits.values() for o, seq in zip(s.origin, s)}[0]
    np.testing.assert_array_equal(first, encode_dna(seqs[0]))
    # the same records labelled by a sheet instead (headers without labels)
    plain = tmp_path / "plain.fa"
    plain.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    sheet = tmp_path / "labels.tsv"
    sheet.write_text("id\tlabel\n" + "".join(f"s{i}\t{'yes' if i % 2 else 'no'}\n" for i in range(20)))
    by_sheet = sources.ingest({"reader": "fasta", "path": str(plain), "labels": str(sheet)}, "fa")
    labels = {int(o): int(y) for s in by_sheet.splits.values() for o, y in zip(s.origin, s.labels)}
    assert labels == {i: i % 2 for i in range(20)}


# ------------------------------------------------------------------ EDF


def write_edf(
    path: Path, stages: list[str], epoch: float = 2.0, rate: int = 50, channels=("EEG Fpz", "EEG Pz"), seed=0
):
    """An EDF+ file with one annotation per epoch (like a hypnogram), `rate` Hz."""
    import pyedflib

    rng = np.random.default_rng(seed)
    seconds = int(epoch * len(stages))
    signals = [rng.normal(0, 20, seconds * rate) for _ in channels]
    with pyedflib.EdfWriter(str(path), len(channels), file_type=pyedflib.FILETYPE_EDFPLUS) as writer:
        headers = []
        for name in channels:
            headers.append(
                {
                    "label": name,
                    "dimension": "uV",
                    "sample_frequency": rate,
                    "physical_max": 200.0,
                    "physical_min": -200.0,
                    "digital_max": 32767,
                    "digital_min": -32768,
                }
            )
        writer.setSignalHeaders(headers)
        writer.writeSamples(signals)
        for i, stage in enumerate(stages):
            writer.writeAnnotation(i * epoch, epoch, stage)
    return path, np.stack(signals, axis=1)


def test_edf_epochs_are_cut_at_annotations_and_files_are_groups(tmp_path):
    stages = ["Sleep stage W", "Sleep stage 2", "Sleep stage W", "Sleep stage 2", "Movement"] * 2
    originals = [write_edf(tmp_path / f"night{i}.edf", stages, seed=i)[1] for i in range(5)]
    spec = {
        "reader": "edf",
        "path": str(tmp_path / "night*.edf"),
        "split": "group",
        "epoch_seconds": 2.0,
        "labels": {"Sleep stage W": "wake", "Sleep stage 2": "N2"},
        "valid_fraction": 0.2,
        "test_fraction": 0.2,
    }
    ds = sources.ingest(spec, "sleep")
    assert ds.classes == ["wake", "N2"] and ds.kind == "signal"
    assert sum(len(s) for s in ds.splits.values()) == 5 * 8  # Movement epochs are not labelled
    first = min(
        ((int(o), seq) for s in ds.splits.values() for o, seq in zip(s.origin, s)), key=lambda x: x[0]
    )[1]
    assert first.shape == (100, 2)
    np.testing.assert_allclose(first, originals[0][:100], atol=0.01)  # physical units, 16-bit resolution
    files = {name: {int(o) // 8 for o in s.origin} for name, s in ds.splits.items()}
    assert all(len(files[a] & files[b]) == 0 for a in files for b in files if a != b)
    assert ds.meta["rate_hz"] == 50 and ds.meta["channels"] == ["EEG Fpz", "EEG Pz"]


def test_edf_long_annotation_gives_consecutive_epochs_and_channels_can_be_picked(tmp_path):
    import pyedflib

    path = tmp_path / "one.edf"
    write_edf(path, ["x", "y"] * 3, epoch=1.0)
    with pyedflib.EdfReader(str(path)) as reader:
        assert reader.annotations_in_file == 6
    ds = sources.ingest(
        {
            "reader": "edf",
            "path": str(path),
            "epoch_seconds": 0.5,
            "channels": ["EEG Pz"],
            "split": "stratified",
            "valid_fraction": 0.25,
            "test_fraction": 0.25,
        },
        "e",
    )
    assert sum(len(s) for s in ds.splits.values()) == 12 and ds.splits["train"][0].shape == (25, 1)


# ------------------------------------------------------------------ NumPy and text tables


def test_numpy_reader_tokens_signals_lengths_and_given_test(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 40, 3)).astype(np.float32)
    lengths = rng.integers(10, 41, size=30)
    path = tmp_path / "arrays.npz"
    np.savez(
        path,
        x=x,
        y=np.array(["up", "down"] * 15),
        lengths=lengths,
        x_test=x[:6],
        y_test=np.array(["up", "down"] * 3),
    )
    ds = sources.ingest({"reader": "numpy", "path": str(path)}, "np")
    assert ds.kind == "signal" and ds.classes == ["up", "down"] and len(ds.splits["test"]) == 6
    by_origin = {int(o): seq for o, seq in zip(ds.splits["train"].origin, ds.splits["train"])}
    row = next(iter(by_origin))
    np.testing.assert_array_equal(by_origin[row], x[row, : lengths[row]])
    tokens = tmp_path / "tokens.npz"
    np.savez(tokens, x=rng.integers(0, 7, size=(20, 15)), y=np.arange(20) % 2)
    tds = sources.ingest({"reader": "numpy", "path": str(tokens)}, "tok")
    assert tds.kind == "tokens" and tds.vocab_size <= 9 and tds.splits["train"].values.min() >= 2


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet"])
def test_text_tables_in_every_format(tmp_path, fmt):
    table = pd.DataFrame(
        {
            "review": [f"{'fine good' if i % 2 else 'poor bad'} text {i}" for i in range(30)],
            "stars": ["hi", "lo"] * 15,
        }
    )
    path = tmp_path / f"reviews.{fmt}"
    if fmt == "parquet":
        table.to_parquet(path)
    else:
        table.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False)
    spec = {
        "reader": "text",
        "path": str(path),
        "text_column": "review",
        "label_column": "stars",
        "min_count": 1,
    }
    ds = sources.ingest(spec, "t")
    assert ds.classes == ["hi", "lo"] and sum(len(s) for s in ds.splits.values()) == 30
    assert "text" in ds.meta["vocab"]


# ------------------------------------------------------------------ EEG-like generator


def test_eeg_synthetic_is_labelled_synthetic_seeded_and_has_its_transient():
    spec = {"reader": "eeg_synthetic", "n": 30, "seconds": 4, "rate": 50, "channels": 3, "event_seconds": 1.0}
    a, b = sources.ingest(spec, "eeg"), sources.ingest(spec, "eeg")
    np.testing.assert_array_equal(a.splits["train"].values, b.splits["train"].values)
    assert a.classes == ["background", "spike_wave", "theta_burst"]
    assert a.meta["synthetic"] and "SYNTHETIC" in a.meta["source"]
    assert all("(synthetic)" in c for c in a.meta["channels"])
    assert a.splits["train"][0].shape == (200, 3)
    train = a.splits["train"]
    peak = [np.abs(seq).max() for seq in train]
    spikes = [p for p, y in zip(peak, train.labels) if a.classes[y] == "spike_wave"]
    quiet = [p for p, y in zip(peak, train.labels) if a.classes[y] == "background"]
    assert np.median(spikes) > np.median(quiet)  # spike-waves stand out; theta bursts need the rhythm


# ------------------------------------------------------------------ pinned downloads


def test_fetch_by_url_checks_the_pin_and_leaves_nothing_on_mismatch(tmp_path):
    source = tmp_path / "remote" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(b"payload" * 100)
    out = tmp_path / "resources" / "file.bin"
    sources.fetch(f"url:{source.as_uri()}", sources.sha256_of(source), out)
    assert out.read_bytes() == source.read_bytes()
    other = tmp_path / "resources" / "other.bin"
    with pytest.raises(DataError, match="does not match the pinned"):
        sources.fetch(f"url:{source.as_uri()}", "0" * 64, other)
    assert sorted(p.name for p in other.parent.iterdir()) == ["file.bin"]


# ------------------------------------------------------------------ the data set sheet


def test_the_default_sheet_is_valid_and_covers_every_domain():
    specs = load_sheet(REPO / "config" / "datasets.tsv")
    readers = {spec["reader"] for spec in specs.values()}
    assert {"text", "genbank", "eeg_synthetic", "ucr", "synthetic"} <= readers
    for spec in specs.values():
        if "fetch" in spec:
            assert spec["path"].startswith("resources/") and len(spec["sha256"]) == 64


def test_a_new_data_set_is_one_row(tmp_path):
    gb, _ = write_genbank(tmp_path / "mine.gb", loci=8)
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        "name\tkind\treader\tpath\tfetch\tsha256\tsplit\toptions\n"
        f"mine\ttokens\tgenbank\t{gb}\t\t\tgroup\t{{window: 20, kmer: 2}}\n"
    )
    specs = load_sheet(sheet)
    ds = sources.ingest(specs["mine"], "mine")
    data.save(ds, tmp_path / "out")
    assert data.load(tmp_path / "out").vocab_size == 2 + 16


def test_ucr_arff_files_read_like_ts(tmp_path):
    def arff(path, rows):
        header = ["@relation tiny"] + [f"@attribute t{i} numeric" for i in range(5)]
        header += ["@attribute target {a,b}", "@data"]
        path.write_text("\n".join(header + [",".join(map(str, r)) for r in rows]) + "\n")
        return path

    rng = np.random.default_rng(6)
    train = arff(
        tmp_path / "tiny_TRAIN.arff", [[*np.round(rng.normal(size=5), 3), "ab"[i % 2]] for i in range(10)]
    )
    test = arff(
        tmp_path / "tiny_TEST.arff", [[*np.round(rng.normal(size=5), 3), "ab"[i % 2]] for i in range(4)]
    )
    ds = sources.ingest({"reader": "ucr", "train_file": str(train), "test_file": str(test)}, "arff")
    assert ds.classes == ["a", "b"] and len(ds.splits["test"]) == 4 and ds.splits["train"][0].shape == (5, 1)
    assert ds.meta["split_policy"] == "given"


def write_ucr_tsv(path, series, labels):
    """The UCR 2018 format: label first, tab-separated, shorter series padded with NaN."""
    width = max(len(s) for s in series)
    lines = [
        "\t".join([str(label)] + [f"{v:g}" for v in s] + ["NaN"] * (width - len(s)))
        for s, label in zip(series, labels)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ucr_2018_tsv_files_with_nan_padding_read_at_their_own_lengths(tmp_path):
    rng = np.random.default_rng(0)
    lengths = [12, 30, 7, 30, 18, 25] * 3
    train = [list(rng.normal(size=n)) for n in lengths]
    labels = [1, 2] * 9
    write_ucr_tsv(tmp_path / "X_TRAIN.tsv", train, labels)
    write_ucr_tsv(tmp_path / "X_TEST.tsv", train[:6], [f"{v}.0" for v in labels[:6]])
    ds = sources.ingest(
        {
            "reader": "ucr",
            "train_file": str(tmp_path / "X_TRAIN.tsv"),
            "test_file": str(tmp_path / "X_TEST.tsv"),
            "split": "given",
        },
        "x",
    )
    assert ds.classes == ["1", "2"]
    assert sorted(ds.splits["test"].lengths.tolist()) == sorted(lengths[:6])
    first = ds.splits["test"][int(np.flatnonzero(ds.splits["test"].origin == 18)[0])]
    np.testing.assert_allclose(first[:, 0], np.float32(train[0]), rtol=1e-5)
    # a non-number is refused naming the file, the line and the format
    (tmp_path / "X_TEST.tsv").write_text("1\t0.5\tabc\n")
    with pytest.raises(
        DataError, match=r"X_TEST.tsv: line 1: 'abc' is not a number; a UCR .tsv line is the label"
    ):
        sources.ingest(
            {
                "reader": "ucr",
                "train_file": str(tmp_path / "X_TRAIN.tsv"),
                "test_file": str(tmp_path / "X_TEST.tsv"),
                "split": "given",
            },
            "x",
        )
