"""A training job killed mid-way and started again ends with the numbers of an uninterrupted run."""

import json
import signal
import subprocess
import sys
import time

import torch

from longseq import data, sources

MODEL = {"hidden": 24, "embedding": 8, "dropout": 0.2}
TRAIN = {"max_epochs": 8, "patience": 8, "batch_size": 8}


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


def epochs_in(checkpoint):
    try:
        return len(torch.load(checkpoint, weights_only=False)["history"]["epochs"])
    except Exception:  # not written yet
        return 0


def test_killed_training_resumes_to_the_same_result(tmp_path):
    spec = {"reader": "synthetic", "n": 120, "length": 400, "evidence": "end"}
    data.save(sources.ingest(spec), tmp_path / "d")
    subprocess.run(train_cmd(tmp_path, "straight"), check=True, capture_output=True)

    checkpoint = tmp_path / "ckpt.pt"
    job = subprocess.Popen(train_cmd(tmp_path, "killed", checkpoint), stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while epochs_in(checkpoint) < 3 and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL, "training finished before it could be killed"
    done = epochs_in(checkpoint)
    assert 3 <= done < TRAIN["max_epochs"]
    assert not (tmp_path / "killed.pt").exists()

    rerun = subprocess.run(
        train_cmd(tmp_path, "killed", checkpoint), capture_output=True, text=True, check=True
    )
    assert f"resumed from {checkpoint} after epoch {done}" in rerun.stderr
    assert not checkpoint.exists()  # removed once training finished

    straight = json.loads((tmp_path / "straight.json").read_text())
    resumed = json.loads((tmp_path / "killed.json").read_text())
    strip = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h["epochs"]]  # noqa: E731
    assert strip(resumed) == strip(straight)
    assert resumed["resumed_at"] == [done]
    a = torch.load(tmp_path / "straight.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "killed.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
