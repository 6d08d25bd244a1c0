"""`reproducible: portable`: the same numbers whatever the machine's instruction set. Two
machines are played by one: a run whose native ISA is pinned lower (oneDNN and PyTorch limited
to AVX2, as on an AVX2-only machine) against a run at this machine's own."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import yaml
from conftest import make_split
from test_workflow import BARE_PATH, BIN, snakemake, tiny_config

from longseq.core import data, kernels

AVX2_MACHINE = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
TRAIN = {"max_updates": 50, "eval_every": 25, "min_updates": 50, "patience": 1, "batch_size": 16}


@pytest.fixture(scope="module")
def signals(tmp_path_factory):
    """Long enough, wide enough inputs that kernels of different widths sum differently."""
    rng = np.random.default_rng(0)

    def split(n):
        return make_split(
            [rng.normal(size=(200, 6)).astype(np.float32) for _ in range(n)], rng.integers(0, 2, n)
        )

    folder = tmp_path_factory.mktemp("kernels") / "signals"
    data.save(data.Dataset("signal", ["a", "b"], {"train": split(64), "valid": split(16), "test": split(16)},
                           {"channels": [f"c{i}" for i in range(6)]}), folder)  # fmt: skip
    return folder


def valid_losses(folder, tmp_path, machine: dict, level: str) -> list[float]:
    """Train with the settings a machine brings and those the level pins (which win)."""
    env = {k: v for k, v in os.environ.items() if k not in kernels.PORTABLE}
    env.update(machine)
    env.update(kernels.pinned(level))
    history = tmp_path / "history.json"
    subprocess.run(
        [f"{BIN}/longseq", "train", "--data", str(folder), "--model", json.dumps({"hidden": 64}),
         "--train", json.dumps(TRAIN), "--seed", "0", "--threads", "1", "--no-progress",
         "--out-history", str(history)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    record = json.loads(history.read_text())
    assert record["kernels"]["ONEDNN_MAX_CPU_ISA"] == env.get("ONEDNN_MAX_CPU_ISA")
    return [e["valid_loss"] for e in record["evaluations"]]


@pytest.mark.slow
def test_portable_kernels_give_the_same_numbers_under_different_native_isas(signals, tmp_path):
    here = valid_losses(signals, tmp_path, {}, "portable")
    elsewhere = valid_losses(signals, tmp_path, AVX2_MACHINE, "portable")
    assert here == elsewhere
    if "avx512f" in kernels.cpu_flags():  # then the native kernels are not the AVX2 ones
        assert valid_losses(signals, tmp_path, {}, "native") != valid_losses(
            signals, tmp_path, AVX2_MACHINE, "native"
        )


@pytest.mark.slow
def test_the_study_setting_pins_every_job_and_each_run_records_it(tmp_path):
    config = tiny_config(tmp_path)
    config["reproducible"] = "portable"
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "results/metrics/ucr/full/seed0.json")
    history = json.loads((tmp_path / "results/models/ucr/full/seed0/history.json").read_text())
    metrics = json.loads((tmp_path / "results/metrics/ucr/full/seed0.json").read_text())
    for record in (history["kernels"], metrics["evaluation_kernels"]):
        assert {k: record[k] for k in kernels.PORTABLE} == kernels.PORTABLE
        assert record["torch_cpu_capability"] == "DEFAULT"
    assert shutil.which("longseq", path=BARE_PATH) is None  # found by the workflow, not the PATH
