"""Bad input, one row each: the `longseq` step must stop with exit code 2 and a message that
names the file, the record and the fix, and leave no output (not even half of one) behind."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, write_ts
from test_readers import write_edf, write_genbank
from test_workflow import write_sheet

from longseq import cli, data, sources
from longseq.data import DataError
from longseq.sheet import load_sheet

SCHEMA = REPO / "workflow" / "schemas" / "datasets.schema.yaml"


def reviews(tmp, labels=("a", "b") * 6, texts=None, name="r.csv"):
    texts = texts or [f"some words here {i}" for i in range(len(labels))]
    path = tmp / name
    pd.DataFrame({"text": texts, "label": list(labels)}).to_csv(path, index=False)
    return {"reader": "text", "path": str(path)}


def fasta(tmp, body):
    path = tmp / "s.fa"
    path.write_text(body)
    return {"reader": "fasta", "path": str(path)}


def truncated_archive(tmp):
    spec = reviews(tmp)
    digest = sources.sha256_of(spec["path"])
    raw = open(spec["path"], "rb").read()
    open(spec["path"], "wb").write(raw[: len(raw) // 2])
    return spec | {"sha256": digest}


def genbank_without_cds(tmp):
    path, records = write_genbank(tmp / "g.gb", loci=2)
    from Bio import SeqIO

    for rec in records:
        rec.features = []
    SeqIO.write(records, path, "genbank")
    return {"reader": "genbank", "path": str(path), "window": 20}


def edf(tmp, **extra):
    write_edf(tmp / "n.edf", ["W", "N2"] * 3)
    return {"reader": "edf", "path": str(tmp / "n.edf"), "epoch_seconds": 2.0} | extra


def npz_mismatch(tmp):
    np.savez(tmp / "a.npz", x=np.zeros((10, 5), np.float32), y=np.zeros(9))
    return {"reader": "numpy", "path": str(tmp / "a.npz")}


def ucr_unknown_label(tmp):
    train = write_ts(tmp / "t_TRAIN.ts", [[1.0, 2.0, 3.0]] * 4, ["a", "b"] * 2)
    test = write_ts(tmp / "t_TEST.ts", [[1.0, 2.0, 3.0]] * 2, ["a", "z"], classes=["a", "b", "z"])
    return {"reader": "ucr", "train_file": str(train), "test_file": str(test)}


BAD_INGEST = {
    "unknown reader": (lambda t: {"reader": "xml", "path": "x.xml"}, r"unknown reader 'xml'; use one of"),
    "missing label column": (
        lambda t: reviews(t) | {"label_column": "stars"},
        r"r.csv: no 'stars' column \(it has \['text', 'label'\]\); set the sheet option label_column",
    ),
    "label is a fraction": (
        lambda t: reviews(t, labels=[0.0, 1.0, 0.7] * 4),
        r"r.csv: data row 3 has label 0.7, a fraction; labels must be class names",
    ),
    "label outside class_names": (
        lambda t: reviews(t) | {"class_names": ["a", "c"]},
        r"r.csv: data row 2 has label 'b', not one of class_names \['a', 'c'\]",
    ),
    "empty file": (
        lambda t: reviews(t, labels=[], texts=[]) | {"path": str(t / "e.csv")},
        r"e.csv: file not found",
    ),
    "zero-byte file": (
        lambda t: (t / "z.csv").write_text("") or {"reader": "text", "path": str(t / "z.csv")},
        r"z.csv: the file is empty; give a file with records",
    ),
    "row without words": (
        lambda t: reviews(t, texts=["fine film"] * 2 + ["!!!"[:0] or "..."] + ["ok"] * 9),
        r"r.csv: data row 3 has no words in 'text'; fill it in or remove the row",
    ),
    "truncated archive": (truncated_archive, r"does not match the pinned .*truncated or altered: delete it"),
    "FASTA record without label": (
        lambda t: fasta(t, ">s0 label=x\nACGT\n>s1\nACGT\n"),
        r"s.fa: record 2 \(s1\) has no label; add 'label=<class>' to its header",
    ),
    "FASTA with a non-base": (
        lambda t: fasta(t, ">s0 label=x\nACGT\n>s1 label=y\nACJT\n"),
        r"s.fa: record 2 \(s1\): character 'J' at position 3 is not a base",
    ),
    "GenBank without CDS": (
        genbank_without_cds,
        r"g.gb: no CDS features, so no window can be labelled coding",
    ),
    "EDF channel missing": (
        lambda t: edf(t, channels=["EEG Oz"]),
        r"n.edf: no channel 'EEG Oz' \(it has \['EEG Fpz', 'EEG Pz'\]\); fix the channels option",
    ),
    "EDF labels match no annotation": (
        lambda t: edf(t, labels={"Sleep stage W": "wake"}),
        r"no annotation gives an epoch \(descriptions found: \['N2', 'W'\]\); fix the labels option",
    ),
    "NumPy rows and labels differ": (npz_mismatch, r"a.npz: x has 10 rows but y has 9; one label per row"),
    "UCR test label unknown to train": (
        ucr_unknown_label,
        r"t_TEST.ts: series 2 has label 'z', which the train file never uses",
    ),
    "kind contradicts reader": (
        lambda t: reviews(t) | {"kind": "signal"},
        r"the sheet's kind is 'signal' but reader 'text' gives 'tokens' sequences; fix the kind column",
    ),
    "given split without a test part": (
        lambda t: reviews(t) | {"split": "given"},
        r"split policy 'given' but reader 'text' has no test part of its own",
    ),
}


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("case", list(BAD_INGEST))
def test_bad_input_stops_ingest_with_a_clear_message_and_no_output(tmp_path, capsys, case):
    make_spec, message = BAD_INGEST[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    spec = make_spec(inputs)
    results = tmp_path / "results"
    results.mkdir()
    code = cli.main(["ingest", "--name", "bad", "--spec", json.dumps(spec), "--out", str(results / "bad")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("longseq ingest: error: ")
    assert re.search(message, err), err
    assert leftovers(results) == []  # no output, no temporary sibling


def test_records_shorter_than_an_arm_needs_stop_reduce_before_training(tmp_path, capsys, token_dataset):
    data.save(token_dataset, tmp_path / "ingested")
    out = tmp_path / "reduced"
    arm = {"reduce": "parallel", "pieces": 8}
    code = cli.main(
        ["reduce", "--data", str(tmp_path / "ingested"), "--arm", json.dumps(arm), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2
    shortest = int(token_dataset.splits["train"].lengths.min())
    assert shortest < 8
    assert (
        "ingested: " in err
        and "train records are shorter than the 8 steps reduce 'parallel' needs" in err
    )
    assert "min_length: 8" in err
    assert not out.exists() and leftovers(tmp_path) == ["ingested"]


def sheet(tmp, *rows):
    return write_sheet(tmp / "sheet.tsv", *rows)


SYN = ["syn", "tokens", "synthetic", "", "", "", "stratified", "{n: 40}"]

BAD_SHEETS = {
    "unknown reader": (
        ["x", "tokens", "xml", "", "", "", "stratified", ""],
        r"line 3 \(x\): reader: 'xml' is not one of",
    ),
    "unknown option": (
        ["syn", "tokens", "synthetic", "", "", "", "stratified", "{n: 40, lenght: 9}"],
        r"line 3 \(syn\): .*'lenght' (was|were) unexpected",
    ),
    "options not YAML": (
        ["syn", "tokens", "synthetic", "", "", "", "stratified", "{n: [40"],
        r"line 3 \(syn\): options are not valid YAML",
    ),
    "fetch without checksum": (
        ["w", "tokens", "text", "resources/a.whl", "pypi:a==1", "", "stratified", ""],
        r"line 3 \(w\): .*'sha256' is a dependency of 'fetch'",
    ),
    "bad name": (
        ["my data", "tokens", "synthetic", "", "", "", "stratified", ""],
        r"line 3 \(my data\): name: 'my data' does not match",
    ),
    "bad split policy": (
        ["syn", "tokens", "synthetic", "", "", "", "random", ""],
        r"line 3 \(syn\): split: 'random' is not one of",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SHEETS))
def test_bad_sheet_rows_are_refused_naming_the_line(tmp_path, case):
    row, message = BAD_SHEETS[case]
    with pytest.raises(DataError, match=message):
        load_sheet(sheet(tmp_path, SYN if row[0] != "syn" else ["ok", *SYN[1:]], row), SCHEMA)


def test_duplicate_data_set_names_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"line 3 \(syn\): a data set named 'syn' is already in the sheet"):
        load_sheet(sheet(tmp_path, SYN, SYN), SCHEMA)
