"""One small end-to-end Snakemake run of the real workflow, on data the test writes."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO

BIN = str(Path(sys.executable).parent)
# The workflow must find its own `longseq` without the virtualenv on PATH (nothing activated):
# every run here goes through .venv/bin/snakemake with a PATH that lacks .venv/bin.
BARE_PATH = os.pathsep.join(
    p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p).resolve() != Path(BIN).resolve()
)


pytestmark = pytest.mark.slow  # every test here runs or plans the workflow


def tiny_config(tmp: Path) -> dict:
    """A copy of the .test mini-study (its config, sheet and data) in `tmp`; returns its config."""
    for part in ("config", "data"):
        shutil.copytree(REPO / ".test" / part, tmp / part, dirs_exist_ok=True)
    return yaml.safe_load((tmp / "config" / "config.yaml").read_text())


def write_sheet(path: Path, *rows: list[str]) -> Path:
    header = ["name", "kind", "reader", "path", "fetch", "sha256", "split", "options"]
    path.write_text("\n".join("\t".join(row) for row in [header, *rows]) + "\n")
    return path


def snakemake(workdir: Path, *args: str, pythonpath: Path | None = None) -> str:
    env = dict(os.environ, PATH=BARE_PATH)
    if pythonpath:  # the workflow imports longseq from a copy of the package
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(
        [
            f"{BIN}/snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "2",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def aggregates(datasets: int = 3) -> dict[str, int]:
    """The jobs that follow any change of results: tables, figures, one confusion figure per
    data set whose results changed, and the target rule."""
    return {"summary": 1, "report_figures": 1, "confusion_matrices": datasets, "verdict": 1, "all": 1}


AGGREGATES = aggregates()


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


def dry_run_counts_with(tmp: Path, config: dict, edited: dict) -> dict[str, int]:
    """Job counts of a dry run with the study config edited; the original is put back after."""
    (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(edited))
    try:
        return job_counts(snakemake(tmp, "-n"))
    finally:
        (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(config))


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    config = tiny_config(tmp)
    (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp)
    return tmp, config


def test_study_produces_summary_and_figure(finished_study):
    tmp, _config = finished_study
    summary = pd.read_csv(tmp / "results" / "summary.csv")
    assert len(summary) == 3 * (3 + 1) * 2  # 3 arms and the reference
    assert set(summary["dataset"]) == {"syn", "ucr", "reviews"} and set(summary["seed"]) == {0, 1}
    reference = summary[summary["arm"] == "reference"].set_index("dataset")
    assert '"minirocket"' in reference.loc["ucr", "arm_params"].iloc[0]
    assert '"tfidf"' in reference.loc["syn", "arm_params"].iloc[0]
    assert summary["accuracy"].between(0, 1).all()
    assert (summary.loc[summary["arm"] == "first", "mean_steps"] <= 10).all()
    assert '"length": 10' in summary.loc[summary["arm"] == "first", "arm_params"].iloc[0]
    assert (tmp / "results" / "accuracy_by_arm.png").read_bytes()[:4] == b"\x89PNG"
    overview = pd.read_csv(tmp / "results" / "overview.csv")
    assert len(overview) == 12 and (overview["seeds"] == 2).all()
    for dataset in ("syn", "ucr", "reviews"):  # one encoder per seed: seeds vary the encoder too
        for seed in (0, 1):
            assert (tmp / "results" / "pretrained" / dataset / "ae" / f"seed{seed}" / "encoder.pt").exists()
    datasets = pd.read_csv(tmp / "results" / "datasets.csv").set_index("dataset")
    assert list(datasets.index) == ["syn", "ucr", "reviews"]
    assert datasets.loc["syn", "real"] == "synthetic" and datasets.loc["ucr", "real"] == "real"
    assert datasets.loc["ucr", "records"] == "12/4/6" and datasets.loc["ucr", "length_max"] == 30
    verdict = pd.read_csv(tmp / "results" / "verdict" / "arms.csv")
    assert len(verdict) == 12 and verdict.groupby("dataset")["recommended"].sum().eq(1).all()
    assert not verdict.loc[verdict["family"] == "reference", "recommended"].any()
    text = (tmp / "results" / "verdict" / "verdict.md").read_text()
    assert "Recommended:" in text and "Reference (minirocket" in text and "Reference (tfidf" in text
    assert (tmp / "results" / "references" / "ucr" / "seed0.npz").exists()
    predictions = pd.read_csv(tmp / "results" / "predictions" / "reviews_all.csv")
    assert list(predictions.columns[:2]) == ["record", "predicted"] and "label" in predictions
    card = json.loads((tmp / "results" / "models" / "reviews" / "first" / "seed0" / "card.json").read_text())
    assert card["arm"] == "first" and card["seed"] == 0 and 0 <= card["test"]["accuracy"] <= 1


def test_nothing_to_do_after_a_run_and_an_arm_edit_reruns_only_that_arm(finished_study):
    tmp, config = finished_study
    assert "Nothing to be done" in snakemake(tmp, "-n")
    edited = dict(
        config, arms=dict(config["arms"], first={"reduce": "truncate", "keep": "first", "length": 12})
    )
    counts = dry_run_counts_with(tmp, config, edited)
    # 3 data sets x the edited arm, x 2 seeds for training and evaluation, plus the aggregates
    # + the predictions made with arm first (config 'predict:')
    assert counts == {
        "reduced_dataset": 3,
        "trained_model": 6,
        "test_metrics": 6,
        "predictions": 1,
        **AGGREGATES,
    }


INVALID = {
    "keep the middle": (lambda c: c["arms"]["first"].update(keep="middle"), "middle"),
    "an arm with its own budget": (
        lambda c: c["arms"]["first"].update(train={"max_updates": 50}),
        "the budget is the same for every arm",
    ),
    "tbptt k2 < k1": (
        lambda c: c["arms"].update(tb={"reduce": "full", "train": {"mode": "tbptt", "k1": 20, "k2": 10}}),
        r"arm 'tb': tbptt: k2 \(10\) < k1 \(20\)",
    ),
    "a seed twice": (lambda c: c.update(seeds=[0, 0, 1]), "non-unique elements"),
    "the search trains at a final seed": (
        lambda c: c.update(tune={"trials": 2, "train_seed": 1, "space": {"train": {"lr": [0.01, 0.02]}}}),
        r"tune: train_seed 1 is also one of the study's seeds \[0, 1\]",
    ),
    "an unknown verdict metric": (lambda c: c.update(verdict={"metric": "auc"}), "'auc' is not one of"),
}


STUDIES = [[f.name] for f in sorted((REPO / "config").glob("*.yaml")) if f.name != "more_arms.yaml"] + [
    ["config.yaml", "more_arms.yaml"]
]  # more_arms.yaml adds arms to the default study


@pytest.mark.parametrize("files", STUDIES, ids="+".join)
def test_every_shipped_study_parses_and_plans(tmp_path, files):
    """What a user runs from the README: each study file and its data set sheet pass every
    check made before a job runs (schema, sheet, arms, search space with trial 0 in it)."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    out = snakemake(tmp_path, "-n", "--configfile", *[f"config/{f}" for f in files])
    counts = job_counts(out)
    assert counts["trained_model"] > 0 and counts["test_metrics"] == counts["trained_model"]
    study = yaml.safe_load((REPO / "config" / files[-1]).read_text())
    if "tune" in study:  # every data set x arm searched with the same number of trials
        assert counts["trial_history"] == counts["chosen_trial"] * study["tune"]["trials"]


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_config_stops_before_any_job(tmp_path, case):
    config = tiny_config(tmp_path)
    edit, message = INVALID[case]
    edit(config)
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, PATH=BARE_PATH)
    result = subprocess.run(
        [
            f"{BIN}/snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--cores",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode != 0
    assert re.search(message, result.stdout + result.stderr), (result.stdout + result.stderr)[-2000:]
    assert not (tmp_path / "results").exists()


def test_editing_pretraining_reruns_the_pretrain_jobs_and_the_arms_that_use_them(finished_study):
    tmp, config = finished_study
    counts = dry_run_counts_with(tmp, config, dict(config, pretrain={"ae": {"window": 8, "max_epochs": 2}}))
    # an encoder per data set and seed; the one arm that uses them: 3 data sets x 2 seeds
    assert counts == {"pretrained_encoder": 6, "trained_model": 6, "test_metrics": 6, **AGGREGATES}


def test_editing_training_settings_does_not_re_reduce_or_re_ingest(finished_study):
    tmp, config = finished_study
    counts = dry_run_counts_with(tmp, config, dict(config, train=dict(config["train"], lr=0.01)))
    assert counts == {"trained_model": 18, "test_metrics": 18, "predictions": 1, **AGGREGATES}


def test_a_configfile_replaces_the_default_study(finished_study):
    """The Snakefile reads config/config.yaml only when no --configfile is given: a study file is
    the whole study, not merged into the default one."""
    tmp, config = finished_study
    sheet = (tmp / "config" / "datasets.tsv").read_text().splitlines()
    (tmp / "syn_only.tsv").write_text(
        "\n".join(line for line in sheet if not line.startswith(("ucr", "reviews"))) + "\n"
    )
    only_syn = {k: v for k, v in config.items() if k != "predict"} | {
        "dataset_sheet": "syn_only.tsv",
        "seeds": [5],
    }
    (tmp / "other.yaml").write_text(yaml.safe_dump(only_syn))
    counts = job_counts(snakemake(tmp, "-n", "--configfile", str(tmp / "other.yaml")))
    # 1 data set x 3 arms, seed 5's encoder and reference; the data set table lists one data set now
    assert counts == {
        "dataset_table": 1,
        "pretrained_encoder": 1,
        "trained_model": 3,
        "test_metrics": 3,
        "reference_metrics": 1,
        **aggregates(1),
    }


def test_editing_a_data_set_row_reruns_that_data_set_only(finished_study):
    tmp, _config = finished_study
    sheet = tmp / "config" / "datasets.tsv"
    original = sheet.read_text()
    try:
        sheet.write_text(original.replace("{n: 40, length: 60,", "{n: 40, length: 64,"))
        counts = job_counts(snakemake(tmp, "-n"))
    finally:
        sheet.write_text(original)
    # one ingest, its 2 reductions (first and first_ae share one), an encoder per seed, 3 arms
    # x 2 seeds trained and evaluated, the reference of each seed
    assert counts == {
        "ingested_dataset": 1,
        "dataset_table": 1,
        "reduced_dataset": 2,
        "pretrained_encoder": 2,
        "trained_model": 6,
        "test_metrics": 6,
        "reference_metrics": 2,
        **aggregates(1),
    }


def test_a_data_sets_training_settings_rerun_its_training_only(finished_study):
    tmp, config = finished_study
    edited = dict(config, datasets={"ucr": {"train": {"lr": 0.01}}})
    counts = dry_run_counts_with(tmp, config, edited)
    assert counts == {"trained_model": 6, "test_metrics": 6, **aggregates(1)}


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_the_report_is_self_contained_and_lists_every_figure(finished_study):
    tmp, _ = finished_study
    snakemake(tmp, "--report", "report.html")
    html = (tmp / "report.html").read_text()
    for name in (
        "results_table.html",
        "accuracy_by_arm.png",
        "accuracy_vs_steps.png",
        "accuracy_vs_cost.png",
        "learning_curves.png",
        "datasets.csv",
        "verdict.md",
        "arms.csv",
        "critical_difference.png",
    ):
        assert name in html, name
    for dataset in ("syn", "ucr", "reviews"):
        assert f"confusion/{dataset}.png" in html
    # the first page opens on the answer: the verdict per data set, then how the study ran
    assert html.index("Verdict per data set") < html.index("Best arm:") < html.index("How the study ran")
    assert "http://" not in html.split("<body")[0].replace("http://www.w3.org", "")  # nothing fetched


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (`make test` installs it as root)"
)
@pytest.mark.browser
def test_the_report_shows_the_table_and_figures_in_headless_chromium(finished_study):
    """Playwright drives Debian's chromium (no browser download): open the report, then the
    results table and the figures the way a reader clicks, keeping a screenshot of each."""
    from playwright.sync_api import sync_playwright

    tmp, _ = finished_study
    if not (tmp / "report.html").exists():
        snakemake(tmp, "--report", "report.html")
    shots = tmp / "screenshots"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS[1:])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto((tmp / "report.html").as_uri())
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "first_page.png"))
        first = page.inner_text("body")
        assert (
            first.index("At a glance")
            < first.index("Verdict per data set")
            < first.index("Best arm:")
            < first.index("How the study ran")
        )
        screen = browser.new_page(viewport={"width": 1400, "height": 900})  # the first screen
        screen.goto((tmp / "report.html").as_uri())
        screen.wait_for_timeout(500)
        screen.screenshot(path=str(shots / "first_screen.png"))
        glance = screen.locator("table", has_text="LSTM beat the bag?").first
        forest = screen.locator("img[src^='data:image/png']").first
        assert glance.locator("tbody tr").count() == 3  # one row per data set
        for element in (glance, forest):
            box = element.bounding_box()
            assert box and box["height"] > 50 and box["y"] + box["height"] <= 900, box  # all of it visible

        def open_item(category, name):
            """Back to the start page, into a category, and the eye button of one item."""
            page.goto((tmp / "report.html").as_uri())
            page.get_by_role("link", name=category).click()
            cell = page.get_by_role("cell", name=name, exact=True)
            page.locator("tr").filter(has=cell).locator("a[iconname=eye]").click()
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / f"{category.split()[0].lower()}_{Path(name).stem}.png"))

        open_item("Results", "results/report/results_table.html")
        table = next(f for f in page.frames if "results_table.html" in f.url)
        assert "Test accuracy, mean" in table.inner_text("body")
        assert (
            table.locator("#results tr").count() == 1 + 3 + 1 + 1
        )  # header, 3 arms, the reference, majority class
        for category, figure in [
            ("Results", "results/accuracy_by_arm.png"),
            ("Results", "results/report/accuracy_vs_steps.png"),
            ("Results", "results/report/accuracy_vs_cost.png"),
            ("Training", "results/report/learning_curves.png"),
            ("Confusion matrices", "syn"),  # listed by its label: the data set
        ]:
            open_item(category, figure)
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
            assert any(width > 300 for width in widths), (figure, widths)
        browser.close()
    assert len(list(shots.glob("*.png"))) >= 6


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("steps/evaluate.py", {"test_metrics": 18, **AGGREGATES}),
        # the aggregation: its tables and the figures drawn from them, not the verdict
        ("report/aggregate.py", {"summary": 1, "report_figures": 1, "all": 1}),
        ("report/figures.py", {"report_figures": 1, "all": 1}),  # only the figures
        ("report/describe.py", {"dataset_table": 1, "all": 1}),
        ("report/confusion.py", {"confusion_matrices": 3, "all": 1}),
        ("report/comparisons.py", {}),  # the docs' study-versus-study tools: no rule runs them
        ("stats/verdict.py", {"verdict": 1, "all": 1}),
        ("stats/mcb.py", {"verdict": 1, "all": 1}),  # the verdict's statistics
        ("stats/flops.py", {"test_metrics": 18, **AGGREGATES}),  # costs are counted by evaluation
        # the truncate reduction, shared by arms first and first_ae: theirs only, no encoder
        (
            "reducers/truncate.py",
            {"reduced_dataset": 3, "trained_model": 12, "test_metrics": 12, "predictions": 1, **AGGREGATES},
        ),
        ("models/bag.py", {}),  # no arm of the test study uses it
        ("references/minirocket.py", {"reference_metrics": 2, **aggregates(1)}),  # the signal set, 2 seeds
        ("sources/genbank.py", {}),  # no data set of the test study reads DNA
        # TBPTT (also chunked prediction) and the training loop: trainings, evaluations and what
        # follows; no pretraining job runs either
        ("steps/tbptt.py", {"trained_model": 18, "test_metrics": 18, "predictions": 1, **AGGREGATES}),
        ("steps/train.py", {"trained_model": 18, "test_metrics": 18, "predictions": 1, **AGGREGATES}),
    ],
)
def test_a_code_change_in_one_step_reruns_that_steps_jobs(finished_study, tmp_path, module, expected):
    """Each rule carries a fingerprint of the modules it runs (workflow/rules/common.smk)."""
    tmp, _ = finished_study
    copy = copy_of_repo(tmp_path)
    assert "Nothing to be done" in snakemake(tmp, "-n", "--snakefile", str(copy / "Snakefile"))
    edited = copy / "src" / "longseq" / module
    edited.write_text(edited.read_text() + "\n_EDITED = 1  # a statement: a comment alone reruns nothing\n")
    output = snakemake(tmp, "-n", "--snakefile", str(copy / "Snakefile"))
    assert (job_counts(output) if expected else "Nothing to be done" in output) == (expected or True)


def copy_of_repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    for part in ("Snakefile", "workflow", "profiles", "src"):
        source = REPO / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / part)
    return copy


REVERSE = '''"""Read the sequence backwards, last step first."""

from ._base import map_splits

OPTIONS = {"copies": {"type": "integer", "minimum": 1}}


def reduce(ds, arm):
    return map_splits(ds, lambda seq: seq[::-1].copy())
'''


def test_a_new_reducer_is_one_module_and_schedules_only_its_arm(finished_study, tmp_path):
    """The recipe in docs/method.md: drop a module into longseq/reducers, name it in an arm."""
    tmp, config = finished_study
    copy = copy_of_repo(tmp_path)
    (copy / "src" / "longseq" / "reducers" / "reverse.py").write_text(REVERSE)
    run = dict(snakefile=str(copy / "Snakefile"))
    assert "Nothing to be done" in snakemake(
        tmp, "-n", "--snakefile", run["snakefile"], pythonpath=copy / "src"
    )
    edited = dict(config, arms=dict(config["arms"], backwards={"reduce": "reverse"}))
    (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(edited))
    try:
        output = snakemake(tmp, "-n", "--snakefile", run["snakefile"], pythonpath=copy / "src")
        misspelt = dict(config, arms=dict(config["arms"], backwards={"reduce": "reverse", "copy": 2}))
        (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(misspelt))
        env = dict(os.environ, PATH=BARE_PATH, PYTHONPATH=str(copy / "src"))
        refused = subprocess.run(
            [f"{BIN}/snakemake", "-n", "--snakefile", run["snakefile"], "--directory", str(tmp)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    finally:
        (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    # 3 data sets x the new arm (x 2 seeds for training and evaluation), plus the aggregates
    assert job_counts(output) == {"reduced_dataset": 3, "trained_model": 6, "test_metrics": 6, **AGGREGATES}
    assert "results/reduced/syn/reverse" in output
    assert refused.returncode != 0
    assert "config arm 'backwards'" in refused.stderr + refused.stdout
    assert "'copy' was unexpected" in refused.stderr + refused.stdout


def test_editing_a_model_setting_retrains_but_does_not_re_ingest_or_re_reduce(finished_study):
    tmp, config = finished_study
    counts = dry_run_counts_with(tmp, config, dict(config, model=dict(config["model"], hidden=12)))
    # the encoders share the model's sizes, so they are refitted too; no ingest, no reduce
    assert counts == {
        "pretrained_encoder": 6,
        "trained_model": 18,
        "test_metrics": 18,
        "predictions": 1,
        **AGGREGATES,
    }


def test_longseq_runs_as_a_module_of_another_workflow(tmp_path):
    """The way `snakedeploy deploy-workflow` sets it up: the user's own folder and config, a
    Snakefile that imports longseq as a module and uses all its rules."""
    tiny_config(tmp_path)
    (tmp_path / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n\n'
        f'module longseq:\n    snakefile:\n        "{REPO / "Snakefile"}"\n    config:\n        config\n\n\n'
        "use rule * from longseq as longseq_*\n"
    )
    env = dict(os.environ, PATH=BARE_PATH)
    run = [
        f"{BIN}/snakemake",
        "--directory",
        str(tmp_path),
        "--snakefile",
        str(tmp_path / "Snakefile"),
        "--cores",
        "2",
    ]
    dry = subprocess.run([*run, "-n"], capture_output=True, text=True, env=env, timeout=300)
    assert dry.returncode == 0, dry.stdout[-2000:] + dry.stderr[-2000:]
    assert job_counts(dry.stdout)["longseq_trained_model"] == 18
    target = "results/metrics/syn/first/seed0.json"
    done = subprocess.run([*run, target], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert 0 <= json.loads((tmp_path / target).read_text())["accuracy"] <= 1


def test_scratch_disk_scales_with_what_a_folder_input_holds(finished_study):
    """Snakemake sizes a directory() input as its inode (4 KB); the rules ask for twice what
    their folders hold. A sparse 700 MB file makes a folder large without using the disk."""
    tmp, _ = finished_study
    folder = tmp / "results" / "reduced" / "syn" / "full"
    before = folder.stat()
    big = folder / "big.bin"
    with open(big, "wb") as f:
        f.truncate(700 * 2**20)
    try:
        output = snakemake(tmp, "-n", "--forcerun", "test_metrics", "trained_model")
    finally:
        big.unlink()
        os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))
    jobs = output.split("rule ")[1:]
    disk = {
        job.split("output: ")[1].split(",")[0].split("\n")[0]: int(re.search(r"disk_mb=(\d+)", job).group(1))
        for job in jobs
        if job.startswith(("trained_model", "test_metrics"))
    }
    reads_big = {path: mb for path, mb in disk.items() if "/syn/full/" in path}
    assert reads_big and all(mb >= 1400 for mb in reads_big.values()), reads_big
    assert all(mb == 1000 for path, mb in disk.items() if path not in reads_big)
    assert "Nothing to be done" in snakemake(tmp, "-n")


def test_a_study_killed_mid_run_completes_on_rerun_with_the_numbers_of_an_uninterrupted_one(
    finished_study, tmp_path
):
    """SIGKILL Snakemake and its running jobs (a lost machine) mid-study; after `--unlock`,
    the plain rerun finishes it: no output half-written, no temporary left, and the overview
    equals the uninterrupted study's (times and memory aside)."""
    import signal
    import time

    reference, _ = finished_study
    study = tmp_path / "study"
    config = tiny_config(study)  # the synthetic and the UCR data sets: enough jobs to kill mid-way
    sheet = study / "config" / "datasets.tsv"
    sheet.write_text(
        "\n".join(line for line in sheet.read_text().splitlines() if not line.startswith("reviews")) + "\n"
    )
    del config["predict"]
    (study / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, PATH=BARE_PATH)
    cmd = [
        f"{BIN}/snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(study),
        "--cores",
        "2",
    ]
    job = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    models = study / "results" / "models"
    deadline = time.time() + 300
    while job.poll() is None and time.time() < deadline:
        if len(list(models.rglob("history.json"))) >= 4:
            break
        time.sleep(0.1)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL, "the study finished before it could be killed"
    assert not (study / "results" / "overview.csv").exists()

    snakemake(study, "--unlock")
    snakemake(study)
    columns = [
        "dataset",
        "arm",
        "accuracy_mean",
        "accuracy_std",
        "macro_f1_mean",
        "updates_mean",
        "steps_read_mean",
    ]

    def table(folder):
        overview = pd.read_csv(folder / "results" / "overview.csv")[columns]
        overview = overview[overview["dataset"] != "reviews"]
        return overview.sort_values(["dataset", "arm"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(study), table(reference))
    assert not [p for p in (study / "results").rglob("*") if p.name.endswith(".tmp") or ".old-" in p.name]


def test_your_own_data_in_three_commands(tmp_path):
    """config/README.md's path: a sheet row, `longseq new-study`, a run of the study it wrote.
    The file is whole (the default arms and settings, config/config.yaml not read beside it)
    and sizes batch and budget for a data set with few train records."""
    shutil.copytree(REPO / ".test" / "data", tmp_path / "data")
    sheet = write_sheet(
        tmp_path / "my.tsv",
        [
            "mine",
            "signal",
            "ucr",
            "",
            "",
            "",
            "given",
            "{train_file: data/tiny_TRAIN.ts, test_file: data/tiny_TEST.ts, valid_fraction: 0.25}",
        ],
    )
    made = subprocess.run(
        [
            f"{BIN}/longseq",
            "new-study",
            "--sheet",
            "my.tsv",
            "--out",
            "my_study.yaml",
            "--template",
            str(REPO / "config" / "config.yaml"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=BARE_PATH),
    )
    assert made.returncode == 0, made.stderr
    study = yaml.safe_load((tmp_path / "my_study.yaml").read_text())
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert study["arms"] == default["arms"] and study["dataset_sheet"] == "my.tsv" and sheet.exists()
    assert study["datasets"]["mine"]["train"] == default["datasets"]["acsf1"]["train"]  # 12 train records
    assert study["model"]["scaling"] == "auto"  # a new user's signals get their scaling chosen on valid
    # every arm plans; one runs to its test score, its budget cut for the test's sake
    study_file = str(tmp_path / "my_study.yaml")  # make study runs from the repo: there, my_study.yaml
    plan = job_counts(snakemake(tmp_path, "-n", "--configfile", study_file))
    assert plan["trained_model"] == len(default["arms"]) * 5 and plan["reference_metrics"] == 5
    short = tmp_path / "short.yaml"  # a second file extends the first
    short.write_text(
        yaml.safe_dump(
            {"datasets": {"mine": {"train": {"max_updates": 6, "eval_every": 3, "min_updates": 3}}}}
        )
    )
    target = "results/metrics/mine/truncate_first_200/seed0.json"
    snakemake(tmp_path, target, "--configfile", study_file, str(short))
    assert 0 <= json.loads((tmp_path / target).read_text())["accuracy"] <= 1
    chosen = json.loads((tmp_path / "results" / "scaling" / "mine.json").read_text())["chosen"]
    assert json.loads((tmp_path / target).read_text())["scaling"] == chosen
    # its measured job times go into the file, and the next run's first line reads them back
    stamped = subprocess.run(
        [f"{BIN}/longseq", "jobs", "results", "--study", "my_study.yaml", "--stamp"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=BARE_PATH),
    )
    assert stamped.returncode == 0, stamped.stderr
    again = snakemake(tmp_path, target.replace("seed0", "seed1"), "--configfile", study_file, str(short))
    assert re.search(
        r"longseq: \d+ jobs to run, about [\d,]+ s of job time by the measured means of .*my_study.yaml.*: about \d+ min on 2 cores",
        again,
    )


def test_a_failed_job_shows_its_reason_in_the_terminal(tmp_path):
    """A .ts file cut after its header: the ingest job fails, and the reader's message (from the
    job's log) is printed under Snakemake's error, not only kept in logs/ingest/."""
    config = tiny_config(tmp_path)
    header = [
        line
        for line in (tmp_path / "data" / "tiny_TRAIN.ts").read_text().splitlines()
        if line.startswith("@")
    ]
    (tmp_path / "data" / "cut_TRAIN.ts").write_text("\n".join(header) + "\n")
    write_sheet(
        tmp_path / "config" / "datasets.tsv",
        [
            "cut",
            "signal",
            "ucr",
            "",
            "",
            "",
            "given",
            "{train_file: data/cut_TRAIN.ts, test_file: data/tiny_TEST.ts, valid_fraction: 0.25}",
        ],
    )
    config["arms"] = {"full": config["arms"]["full"]}
    del config["predict"]
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            f"{BIN}/snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--cores",
            "1",
            "results/ingested/cut",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=BARE_PATH),
        timeout=300,
    )
    assert result.returncode != 0
    log = (tmp_path / "logs" / "ingest" / "cut.log").read_text().strip().splitlines()[-1]
    assert "cut_TRAIN.ts" in log and log in result.stdout + result.stderr, (log, result.stderr[-2000:])
