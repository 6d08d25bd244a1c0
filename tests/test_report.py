"""The report's table and figures from small metric files, and `longseq compare`."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from longseq import cli
from longseq.report import aggregate, comparisons, confusion, durations, figures


def write_run(folder, dataset, arm, seed, accuracy, params, steps, seconds, classes=("a", "b")):
    metrics = {
        "dataset": dataset,
        "arm": arm,
        "seed": seed,
        "arm_params": params,
        "accuracy": accuracy,
        "macro_f1": accuracy,
        "majority_baseline": 0.5,
        "confusion": [[3, 1], [1, 3]],
        "classes": list(classes),
        "n_test_records": 8,
        "mean_steps": steps,
        "train_mode": "bptt",
        "train_seconds": seconds,
        "updates": 100 if seed == 0 else 60,
        "max_updates": 100,
        "steps_read": 100 * steps,
        "best_update": 100 if seed == 0 else 40,
        "best_valid_accuracy": accuracy,
        "stopped_by": "budget" if seed == 0 else "patience",
        "still_improving": seed == 0,
        "peak_memory_mb": 400 + steps,
        "device": "cpu",
    }
    path = folder / f"{dataset}_{arm}_{seed}.json"
    path.write_text(json.dumps(metrics))
    history = folder / dataset / arm / f"seed{seed}" / "history.json"
    history.parent.mkdir(parents=True)
    evaluations = [
        {
            "update": u,
            "epoch": u // 10,
            "train_loss": 10 / u,
            "valid_loss": 20 / u,
            "valid_accuracy": accuracy * u / 100,
        }
        for u in (50, 100)
    ]
    history.write_text(json.dumps({"evaluations": evaluations}))
    bench = folder / "bench" / dataset / arm / f"seed{seed}.tsv"
    bench.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text("s\th:m:s\tmax_rss\n" + f"{seconds + 2}\t0:00:0{seconds}\t{500 + steps}\n")
    return path, history, bench


@pytest.fixture
def runs(tmp_path):
    files = []
    arms = {
        "first_50": ({"reduce": "truncate", "keep": "first", "length": 50}, 50),
        "first_200": ({"reduce": "truncate", "keep": "first", "length": 200}, 200),
        "full": ({"reduce": "full"}, 1000),
        "bag": ({"reduce": "full", "model": {"type": "bag"}}, 1000),
    }
    for ds in ("d1", "d2"):
        for i, (arm, (params, steps)) in enumerate(arms.items()):
            for seed in (0, 1):
                files.append(
                    write_run(tmp_path, ds, arm, seed, 0.5 + 0.1 * i + 0.01 * seed, params, steps, 1 + i)
                )
    return tmp_path, files


def test_collect_joins_the_training_benchmarks(runs):
    _, files = runs
    table = aggregate.collect([m for m, _, _ in files], [b for _, _, b in files])
    assert len(table) == 16
    row = table[(table["dataset"] == "d1") & (table["arm"] == "full") & (table["seed"] == 1)].iloc[0]
    assert row["job_seconds"] == 5 and row["job_max_rss_mb"] == 1500
    overview = aggregate.summarize_runs(table)
    assert {"job_seconds_mean", "job_max_rss_mb_mean"} <= set(overview.columns)
    # the budget is visible: updates, steps read, and how many seeds were still improving
    row = overview[(overview["dataset"] == "d1") & (overview["arm"] == "full")].iloc[0]
    assert (row["updates_mean"], row["max_updates"], row["still_improving"]) == (80, 100, 1)
    assert row["steps_read_mean"] == 100_000 and 0 <= row["macro_f1_std"]


def test_the_figures_and_table_are_written(runs, tmp_path):
    _folder, files = runs
    table = aggregate.collect([m for m, _, _ in files])
    overview = aggregate.summarize_runs(table)
    out = tmp_path / "out"
    out.mkdir()
    figures.results_table_html(overview, out / "t.html")
    html = (out / "t.html").read_text()
    assert "<b>0.805 ± 0.007 <span" in html  # the best arm (bag) of d1, in bold
    assert "1 of 2 seeds still improving when the budget ended'>↑1</span>" in html
    assert html.count("<tr>") == 1 + 4 + 1  # header, four arms, majority class
    figures.plot_accuracy_vs_steps(table, out / "steps.png")
    figures.plot_accuracy_vs_cost(overview, out / "cost.png")
    figures.plot_learning_curves(
        figures.collect_histories([h for _, h, _ in files]), ["first_50", "full"], out / "curves.png"
    )
    confusion.plot_confusions([m for m, _, _ in files], "d2", out / "confusion.png")
    for name in ("steps.png", "cost.png", "curves.png", "confusion.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_strategy_families_make_the_length_sweep():
    assert (
        figures._strategy(json.dumps({"reduce": "truncate", "keep": "last", "length": 5}))
        == "truncate (last)"
    )
    assert (
        figures._strategy(json.dumps({"reduce": "sample", "mode": "window", "length": 5}))
        == "sample (window)"
    )
    assert figures._strategy(json.dumps({"reduce": "truncate", "length": 5, "pretrain": "ae"})) == "other"


def test_compare_shows_changes_per_data_set_and_arm(tmp_path, capsys):
    a = pd.DataFrame(
        {
            "dataset": ["d", "d", "d"],
            "arm": ["x", "y", "gone"],
            "accuracy_mean": [0.6, 0.7, 0.5],
            "accuracy_std": [0.01, 0.2, 0.0],
            "train_seconds_mean": [10.0, 20.0, 5.0],
            "peak_memory_mb_mean": [400.0, 500.0, 300.0],
        }
    )
    b = a.copy()
    b.loc[0, "accuracy_mean"] = 0.8  # a real change
    b.loc[1, "accuracy_mean"] = 0.75  # within the seeds' spread
    b.loc[2, "arm"] = "new"
    b.loc[0, "train_seconds_mean"] = 5.0
    a.to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "b").mkdir()
    b.to_csv(tmp_path / "b" / "overview.csv", index=False)
    assert (
        cli.main(
            ["compare", str(tmp_path / "a.csv"), str(tmp_path / "b"), "--out", str(tmp_path / "diff.csv")]
        )
        == 0
    )
    shown = capsys.readouterr().out
    lines = {line.split()[1]: line for line in shown.splitlines() if line.startswith(("      d", "d "))}
    assert "+0.200 *" in lines["x"] and "0.50x" in lines["x"]
    assert "+0.050" in lines["y"] and "*" not in lines["y"].split("+0.050")[1].split()[0]
    assert lines["gone"].rstrip().endswith("A") and lines["new"].rstrip().endswith("B")
    diff = pd.read_csv(tmp_path / "diff.csv").set_index("arm")
    assert bool(diff.loc["x", "beyond_spread"]) and not bool(diff.loc["y", "beyond_spread"])


def test_compare_names_a_missing_table(tmp_path, capsys):
    assert cli.main(["compare", str(tmp_path), str(tmp_path)]) == 2
    assert "no overview table" in capsys.readouterr().err


def test_markdown_tables_are_written_from_the_overview(runs, capsys):
    folder, files = runs
    overview = aggregate.summarize_runs(aggregate.collect([m for m, _, _ in files]))
    overview.to_csv(folder / "overview.csv", index=False)
    assert cli.main(["tables", str(folder / "overview.csv")]) == 0
    text = capsys.readouterr().out
    assert "| `bag` | **0.805 ± 0.007** ↑1 |" in text  # best of d1, in bold; seed 0 still improving
    assert "| *majority class (train's, on test)* | 0.500 | 0.500 |" in text
    assert "| `full` | 1000 · 80/100 · 3.0 s · 1400 MB |" in text


def _study(folder, runs, datasets, chosen=None):
    """A results folder as `tuned-vs` reads it: overview, runs, data sets, histories, search."""
    folder.mkdir()
    rows = []
    for dataset, arm, params, model, accuracies in runs:
        for seed, accuracy in enumerate(accuracies):
            rows.append(
                {
                    "dataset": dataset,
                    "arm": arm,
                    "seed": seed,
                    "arm_params": json.dumps(params),
                    "accuracy": accuracy,
                    "still_improving": False,
                }
            )
            where = folder / ("tuning" if chosen is not None else "models") / dataset / arm
            where = where / ("trial0" if chosen is not None else f"seed{seed}")
            where.mkdir(parents=True, exist_ok=True)
            (where / "history.json").write_text(json.dumps({"model": model, "config": {"lr": 0.003}}))
    runs = pd.DataFrame(rows)
    runs.to_csv(folder / "summary.csv", index=False)
    overview = (
        runs.groupby(["dataset", "arm"])
        .agg(
            accuracy_mean=("accuracy", "mean"),
            accuracy_std=("accuracy", "std"),
            seeds=("seed", "count"),
            still_improving=("still_improving", "sum"),
        )
        .reset_index()
    )
    overview.to_csv(folder / "overview.csv", index=False)
    pd.DataFrame({"dataset": list(datasets), "records": list(datasets.values())}).to_csv(
        folder / "datasets.csv", index=False
    )
    if chosen is not None:
        (folder / "tuning" / "chosen.csv").write_text(pd.DataFrame(chosen).to_csv(index=False))
    return folder


def test_tuned_arms_are_paired_with_the_untuned_run_of_their_trial_0(tmp_path, capsys):
    """Paired by settings, not name: the same name with another model is not the counterpart,
    another name with the same settings is, and a data set of other size pairs with nothing."""
    short = {"reduce": "truncate", "keep": "last", "length": 200}
    small, big = {"hidden": 64}, {"hidden": 128}
    chosen = [
        {
            "dataset": d,
            "arm": "trunc",
            "trials": 4,
            "chosen_trial": 0 if d == "dna" else 2,
            "valid_loss": 0.4,
            "untuned_valid_loss": 0.5,
            "settings": json.dumps({"train.lr": 0.001}),
        }
        for d in ("dna", "eeg")
    ]
    tuned = _study(
        tmp_path / "tuned",
        [("dna", "trunc", short, small, [0.9, 0.8]), ("eeg", "trunc", short, small, [0.7, 0.7])],
        {"dna": "80/10/10", "eeg": "60/20/20"},
        chosen,
    )
    untuned = _study(
        tmp_path / "untuned",
        [
            ("dna", "trunc", short, big, [0.1, 0.1]),
            ("dna", "truncate_last_200", short, small, [0.6, 0.8]),
            ("eeg", "trunc", short, small, [0.5, 0.5]),
        ],
        {"dna": "80/10/10", "eeg": "600/200/200"},
    )
    table = comparisons.tuned_vs_untuned(tuned, untuned).set_index("dataset")
    assert table.loc["dna", "untuned_arm"] == "truncate_last_200"
    assert table.loc["dna", "untuned_accuracy_mean"] == pytest.approx(0.7)
    assert pd.isna(table.loc["eeg", "untuned_arm"])  # same name and settings, other data
    assert cli.main(["tuned-vs", str(tuned), str(untuned)]) == 0
    out = capsys.readouterr().out
    assert (
        "| dna | `trunc` | 0.850 ± 0.071 (2 seeds) | 0.700 ± 0.141 (2 seeds, `truncate_last_200`) | +0.150 |"
        in out
    )
    assert "| eeg | `trunc` | 0.700 ± 0.000 (2 seeds) | no run with trial 0's settings | – |" in out


def test_job_times_count_the_studys_own_jobs_per_step(tmp_path, capsys):
    """Benchmark files of seeds, trials or data sets the study no longer has are left out."""
    bench = tmp_path / "benchmarks"

    def job(path, seconds):
        path = bench / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t10.0\n")

    pd.DataFrame({"dataset": ["dna"] * 2, "arm": ["first"] * 2, "seed": [0, 1]}).to_csv(
        tmp_path / "summary.csv", index=False
    )
    (tmp_path / "tuning").mkdir()
    pd.DataFrame({"dataset": ["dna"], "arm": ["first"], "trials": [2]}).to_csv(
        tmp_path / "tuning" / "chosen.csv", index=False
    )
    for seed, seconds in ((0, 10), (1, 30), (7, 999)):  # seed 7: a run since removed
        job(f"train/dna/first/seed{seed}.tsv", seconds)
        job(f"evaluate/dna/first/seed{seed}.tsv", 1)
    for trial, seconds in ((0, 5), (1, 6), (2, 999)):  # trial 2: from a larger search before
        job(f"tuning/dna/first/trial{trial}.tsv", seconds)
    job("ingest/dna.tsv", 2)
    job("ingest/gone.tsv", 999)  # a data set no longer in the study
    job("summary.tsv", 3)
    table = durations.job_times(durations.benchmark_rows(tmp_path)).set_index("step")
    assert table.loc["train"].tolist() == [2, 40, 30]
    assert table.loc["tuning"].tolist() == [2, 11, 6]
    assert table.loc["evaluate", "jobs"] == 2 and table.loc["ingest", "seconds"] == 2
    assert table.loc["summary", "jobs"] == 1
    assert cli.main(["jobs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "all: 8 jobs, 58 s of job time"


def test_a_running_study_reads_its_finished_jobs_against_the_study_file_and_stamps_it(
    tmp_path, capsys, monkeypatch
):
    """No summary.csv yet: the jobs finished so far count, those of the study file's data sets,
    arms and seeds; --stamp writes them into the file, and a run's start line reads them back."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sheet.tsv").write_text("name\tkind\nsyn\ttokens\n")
    study = tmp_path / "study.yaml"
    study.write_text("# my study\nseeds: [0]\ndataset_sheet: sheet.tsv\narms:\n  full: {reduce: full}\n")
    bench = tmp_path / "results" / "benchmarks"
    for path, seconds, end in (("train/syn/full/seed0", 10, 100), ("train/syn/full/seed9", 99, 100),
                               ("reference/syn/reference/seed0", 4, 200), ("ingest/syn", 2, 90)):  # fmt: skip
        (bench / path).parent.mkdir(parents=True, exist_ok=True)
        (bench / f"{path}.tsv").write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0\t1\n")
        os.utime(bench / f"{path}.tsv", (end, end))
    assert cli.main(["jobs", "results", "--study", str(study), "--stamp"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[-1] == "all: 3 jobs, 16 s of job time"  # seed 9 is not the study's
    text = study.read_text()
    assert text.startswith(durations.BEGIN) and text.endswith(
        "# my study\nseeds: [0]\ndataset_sheet: sheet.tsv\narms:\n  full: {reduce: full}\n"
    )
    assert "3 jobs, 16 s of job time; 0 min of wall time" in text  # busy 88-100 and 196-200: 16 s
    assert durations.read_stamp(study) == {
        "trained_model": (1, 10.0),
        "reference_metrics": (1, 4.0),
        "ingested_dataset": (1, 2.0),
    }
    assert (
        cli.main(["jobs", "results", "--study", str(study), "--stamp"]) == 0
    )  # a second stamp replaces the first
    assert study.read_text().count(durations.BEGIN) == 1
    assert f"| `{study}` | 3 | 16 s | 0 min on " in durations.durations_table([study])
    # no evaluation has finished: the estimate says it leaves them out rather than count them as 0 s
    assert "evaluate 0 of 1" in text and "WITHOUT evaluate (no job of it measured)" in study.read_text()
    assert "without evaluate (no job of it measured)" in durations.durations_table([study])
    searched = pd.DataFrame({"step": ["tuning"], "jobs": [4], "seconds": [40.0], "longest": [12.0]})
    line = durations.stamp_text(searched, 40, "m", 2, {"train": 5, "tuning": 4}).splitlines()[4]
    assert "is 90 s of job time" in line and "(train by the trials' mean)" in line and "WITHOUT" not in line
    line = durations.expected_line(
        {"trained_model": 6, "test_metrics": 6, "total": 12}, [str(study)], cores=2
    )
    assert line.startswith("longseq: 12 jobs to run, about 60 s of job time") and "0 min on 2 cores" in line
    assert "(6 jobs of rules never measured not counted)" in line
    assert durations.busy_wall_seconds(durations.benchmark_rows("results", [study])) == 16
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(study.read_text())
    assert cli.main(["jobs", "results"]) == 0  # no summary.csv, no --study: the default study file
    assert "is not there yet" in capsys.readouterr().err


@pytest.mark.parametrize("device, same", [("cpu", True), ("cuda:0", False)])
def test_autocast_only_distinguishes_runs_on_cuda(tmp_path, device, same):
    """A CPU run is float32 whether or not `amp` is set, so the setting does not keep a tuned
    CPU run from its untuned counterpart; on CUDA it changes the numbers and does."""
    keys = []
    for amp in (True, False):
        path = tmp_path / f"h{amp}.json"
        path.write_text(
            json.dumps({"device": device, "model": {"hidden": 8}, "config": {"amp": amp, "lr": 0.1}})
        )
        keys.append(comparisons._run_settings(path, '{"reduce": "full"}', "8/1/1"))
    assert (keys[0] == keys[1]) == same


def test_the_docs_durations_table_is_the_study_files_stamps(monkeypatch):
    """docs/running.md's 'How long' table is generated (`longseq durations config/*.yaml`), never typed."""
    from conftest import REPO

    docs = (REPO / "docs" / "running.md").read_text()
    table = docs.split("<!-- durations:start -->\n")[1].split("<!-- durations:end -->")[0]
    monkeypatch.chdir(REPO)
    studies = sorted(p.as_posix() for p in Path("config").glob("*.yaml"))
    assert table.strip() == durations.durations_table(studies).strip()
