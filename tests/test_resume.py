"""A training job killed mid-way and started again ends with the numbers of an uninterrupted run."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from longseq import sources
from longseq.core import data

pytestmark = pytest.mark.slow

MODEL = {"hidden": 24, "embedding": 8, "dropout": 0.2}
TRAIN = {"max_updates": 96, "eval_every": 12, "min_updates": 96, "patience": 8, "warmup": 5, "batch_size": 8}
EVALUATIONS = TRAIN["max_updates"] // TRAIN["eval_every"]


def train_cmd(tmp, name, checkpoint=None):
    cmd = [
        sys.executable,
        "-m",
        "longseq",
        "train",
        "--data",
        str(tmp / "d"),
        "--seed",
        "3",
        "--model",
        json.dumps(MODEL),
        "--train",
        json.dumps(TRAIN),
        "--no-progress",
        "--out-model",
        str(tmp / f"{name}.pt"),
        "--out-history",
        str(tmp / f"{name}.json"),
    ]
    return cmd + (["--checkpoint", str(checkpoint)] if checkpoint else [])


def evaluations_in(checkpoint):
    try:
        return len(torch.load(checkpoint, weights_only=True)["history"]["evaluations"])
    except Exception:  # noqa: BLE001 -- not written yet, or half-written: whatever torch raises then
        return 0


def test_killed_training_resumes_to_the_same_result(tmp_path):
    spec = {"reader": "synthetic", "n": 120, "length": 400, "evidence": "end"}
    data.save(sources.ingest(spec), tmp_path / "d")
    subprocess.run(train_cmd(tmp_path, "straight"), check=True, capture_output=True)

    checkpoint = tmp_path / "ckpt.pt"
    job = subprocess.Popen(train_cmd(tmp_path, "killed", checkpoint), stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while evaluations_in(checkpoint) < 3 and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL, "training finished before it could be killed"
    done = evaluations_in(checkpoint)
    assert 3 <= done < EVALUATIONS
    done_updates = done * TRAIN["eval_every"]
    assert not (tmp_path / "killed.pt").exists()

    rerun = subprocess.run(
        train_cmd(tmp_path, "killed", checkpoint), capture_output=True, text=True, check=True
    )
    assert f"resumed from {checkpoint} after update {done_updates}" in rerun.stderr
    assert not checkpoint.exists()  # removed once training finished

    straight = json.loads((tmp_path / "straight.json").read_text())
    resumed = json.loads((tmp_path / "killed.json").read_text())
    strip = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h["evaluations"]]
    assert strip(resumed) == strip(straight)
    assert resumed["resumed_at"] == [done_updates]
    a = torch.load(tmp_path / "straight.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "killed.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def killed_after(cmd, checkpoint, evaluations=2, env=None):
    """Start a training command and SIGKILL it once its checkpoint holds `evaluations`."""
    job = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while evaluations_in(checkpoint) < evaluations and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL, "training finished before it could be killed"


def test_a_checkpoint_of_other_data_or_code_is_not_resumed(tmp_path):
    """The checkpoint's identity holds a digest of the data it trains on and of the package
    code the process runs: after either changes, the rerun starts afresh and says why."""
    import os
    import shutil

    from conftest import REPO

    spec = {"reader": "synthetic", "n": 120, "length": 400, "evidence": "end"}
    data.save(sources.ingest(spec), tmp_path / "d")
    checkpoint = tmp_path / "ckpt.pt"
    killed_after(train_cmd(tmp_path, "run", checkpoint), checkpoint)
    data.save(sources.ingest({**spec, "seed": 11}), tmp_path / "d")  # same shape, other records
    rerun = subprocess.run(train_cmd(tmp_path, "run", checkpoint), capture_output=True, text=True, check=True)
    assert "is of another run (its data differs); starting afresh" in rerun.stderr
    assert json.loads((tmp_path / "run.json").read_text())["resumed_at"] == []

    package = tmp_path / "pkg"
    shutil.copytree(
        REPO / "src" / "longseq", package / "longseq", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = dict(os.environ, PYTHONPATH=str(package))
    killed_after(train_cmd(tmp_path, "run", checkpoint), checkpoint, env=env)
    tbptt = package / "longseq" / "steps" / "tbptt.py"
    tbptt.write_text(tbptt.read_text() + "\n_EDITED = 1  # a statement: a comment alone is the same code\n")
    rerun = subprocess.run(
        train_cmd(tmp_path, "run", checkpoint), capture_output=True, text=True, check=True, env=env
    )
    assert "is of another run (its code differs); starting afresh" in rerun.stderr
    assert json.loads((tmp_path / "run.json").read_text())["resumed_at"] == []


def test_snakemake_retries_a_killed_training_job_from_its_checkpoint(tmp_path):
    """The cluster profile's `retries`: a training job killed mid-way (preempted, out of time)
    fails, Snakemake starts it again with attempt 2, and it resumes from its checkpoint to the
    numbers of an uninterrupted run."""
    import os
    from pathlib import Path

    import yaml
    from conftest import REPO
    from test_workflow import write_sheet

    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])

    def study(folder):
        (folder / "config").mkdir(parents=True)
        write_sheet(
            folder / "config" / "datasets.tsv",
            ["syn", "tokens", "synthetic", "", "", "", "stratified", "{n: 120, length: 400, evidence: end}"],
        )
        config = {"seeds": [3], "model": MODEL, "train": TRAIN, "dataset_sheet": "config/datasets.tsv"}
        config["arms"] = {"full": {"reduce": "full"}}
        (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
        return [f"{bin_dir}/snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(folder)]

    straight = study(tmp_path / "straight")
    subprocess.run([*straight, "--cores", "1"], check=True, capture_output=True, env=env, timeout=600)

    killed = study(tmp_path / "killed")
    run = subprocess.Popen(
        [*killed, "--cores", "1", "--retries", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    checkpoint = tmp_path / "killed" / "results" / "checkpoints" / "syn" / "full" / "seed3.pt"
    deadline = time.time() + 300
    while evaluations_in(checkpoint) < 3 and time.time() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert evaluations_in(checkpoint) >= 3, "no checkpoint to kill after"
    subprocess.run(["pkill", "-KILL", "-f", "longseq train --data results/reduced/syn/full"], check=True)
    output, _ = run.communicate(timeout=600)
    assert run.returncode == 0, output[-3000:]
    assert "Trying to restart job" in output, output[-3000:]
    history = json.loads(
        (tmp_path / "killed" / "results" / "models" / "syn" / "full" / "seed3" / "history.json").read_text()
    )
    # resumed once, after the evaluation the kill interrupted (the exact one races the kill)
    assert len(history["resumed_at"]) == 1
    assert 3 * TRAIN["eval_every"] <= history["resumed_at"][0] < TRAIN["max_updates"]
    a = json.loads(
        (tmp_path / "straight" / "results" / "metrics" / "syn" / "full" / "seed3.json").read_text()
    )
    b = json.loads((tmp_path / "killed" / "results" / "metrics" / "syn" / "full" / "seed3.json").read_text())
    assert (a["accuracy"], a["confusion"], a["best_update"]) == (
        b["accuracy"],
        b["confusion"],
        b["best_update"],
    )
