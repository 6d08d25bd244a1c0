"""The prepared GPU check runs end to end on the CPU (`--device cpu --quick`), so that on a GPU
machine only its CUDA lines are new."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def test_the_gpu_check_runs_on_the_cpu_and_writes_its_figures(tmp_path):
    env = {"PYTHON": sys.executable, "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu_check.sh"), str(tmp_path), "--device", "cpu", "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["facts"]["device"] == "cpu"
    assert report["fused"][0]["fused"], report["fused"]  # oneDNN's LSTM ran, not a cell loop
    assert report["throughput"][0]["steps_per_s"] > 0
    assert [m["mode"] for m in report["memory"]] == ["bptt", "tbptt", "last_k"]
    assert [m["arm"] for m in report["long_models"]] == ["full", "learned_summary", "ssm_baseline"]
    assert all(m["seconds_per_update"] > 0 for m in report["long_models"])
    study = report["tiny_study"]
    assert study["train_devices"] == ["cpu"] and study["precisions"] == ["float32"]
    assert any(job["job"].startswith("train/") for job in study["jobs"])
    assert "training throughput" in (tmp_path / "gpu_check.txt").read_text()
