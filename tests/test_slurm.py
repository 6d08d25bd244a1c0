"""A real one-node SLURM cluster on localhost (Debian's slurmctld, slurmd and munge): a tiny
study goes through profiles/slurm with sbatch, every job runs under the scheduler, the
results equal a local run's, and every daemon the test started is stopped again.

Skipped, with the reason, where it cannot start one (not root, or the packages are missing:
`make test` installs them where apt-get exists)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO
from test_workflow import BARE_PATH, write_sheet

BIN = str(Path(sys.executable).parent)
NEEDED = ["slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo", "munged", "munge", "unmunge"]
# Debian installs the daemons in /usr/sbin, which a user's PATH (or `env -i`'s) may lack
SBIN = os.pathsep.join(["/usr/sbin", "/sbin"])
WITH_SBIN = os.pathsep.join([os.environ.get("PATH", ""), SBIN])
missing = [tool for tool in NEEDED if shutil.which(tool, path=WITH_SBIN) is None]
pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(os.geteuid() != 0, reason="starting slurmctld/slurmd/munged needs root"),
    pytest.mark.skipif(
        Path("/etc/slurm/slurm.conf").exists(),
        reason="this machine has a SLURM config of its own; not touching it",
    ),
    pytest.mark.skipif(
        bool(missing),
        reason=f"SLURM packages not installed (missing {missing}); `make test` installs them with apt-get",
    ),
]


def _run(*cmd, env=None, check=True, timeout=60):
    env = env or dict(os.environ, PATH=WITH_SBIN)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=check, timeout=timeout)


def _node_line(host: str) -> str:
    """This machine's topology as slurmd sees it, with a little memory held back, plus two fake
    GPUs so that GPU requests really go through the scheduler."""
    probe = _run("slurmd", "-C").stdout.splitlines()[0]
    fields = dict(item.split("=", 1) for item in probe.split())
    fields["RealMemory"] = str(int(int(fields["RealMemory"]) * 0.8))
    keep = ["CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory"]
    return (
        f"NodeName={host} NodeAddr=127.0.0.1 "
        + " ".join(f"{k}={fields[k]}" for k in keep if k in fields)
        + " Gres=gpu:2 State=UNKNOWN"
    )


ETC = Path("/etc/slurm")


def _write_config(base: Path, host: str) -> Path:
    """slurm.conf and gres.conf go where every SLURM command looks by default: the plugin's
    job step strips SLURM_CONF before its nested srun, so a config elsewhere is not found."""
    for name in ("state", "spool", "log", "run"):
        (base / name).mkdir()
    ETC.mkdir(parents=True, exist_ok=True)
    conf = ETC / "slurm.conf"
    conf.write_text(
        "\n".join(
            [
                "ClusterName=longseqtest",
                f"SlurmctldHost={host}(127.0.0.1)",
                "SlurmUser=root",
                "AuthType=auth/munge",
                f"StateSaveLocation={base}/state",
                f"SlurmdSpoolDir={base}/spool",
                f"SlurmctldPidFile={base}/run/slurmctld.pid",
                f"SlurmdPidFile={base}/run/slurmd.pid",
                f"SlurmctldLogFile={base}/log/slurmctld.log",
                f"SlurmdLogFile={base}/log/slurmd.log",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "MailProg=/bin/true",
                "ReturnToService=2",
                "MinJobAge=300",
                "GresTypes=gpu",
                _node_line(host),
                # the default partition is neither of the profile's: a job lands in cpu or gpu
                # only if the profile's resources reach it
                "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                "PartitionName=cpu Nodes=ALL MaxTime=INFINITE State=UP",
                "PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP",
            ]
        )
        + "\n"
    )
    (ETC / "gres.conf").write_text(
        f"NodeName={host} Name=gpu File=/dev/null\nNodeName={host} Name=gpu File=/dev/zero\n"
    )
    return conf


def _start_munge() -> bool:
    """Start munged as the munge user unless one already answers; True if this test started it."""
    if _run("munge", "-n", check=False).returncode == 0:
        return False
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    if not Path("/etc/munge/munge.key").exists():
        _run("runuser", "-u", "munge", "--", "mungekey", "--create")
    _run("runuser", "-u", "munge", "--", "munged")
    for _ in range(50):
        if _run("munge", "-n", check=False).returncode == 0:
            return True
        time.sleep(0.1)
    raise RuntimeError("munged did not start")


def _stop(pid_file: Path) -> None:
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("slurm")
    host = _run("hostname", "-s").stdout.strip()
    conf = _write_config(base, host)
    env = dict(os.environ, SLURM_CONF=str(conf), PATH=os.pathsep.join([BARE_PATH, SBIN]))
    started_munge = _start_munge()
    try:
        _run("slurmctld", "-c", "-f", str(conf), env=env)
        _run("slurmd", "-f", str(conf), env=env)
        for _ in range(100):
            state = _run("sinfo", "-h", "-o", "%T", env=env, check=False).stdout.strip()
            if state.startswith("idle"):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the SLURM node never became idle (state {state!r}); see {base}/log")
        yield env
    finally:
        _run("scancel", "--user", "root", env=env, check=False)
        _stop(base / "run" / "slurmd.pid")
        _stop(base / "run" / "slurmctld.pid")
        if started_munge:
            _run("pkill", "-u", "munge", "munged", check=False)
        for name in ("slurm.conf", "gres.conf"):
            (ETC / name).unlink(missing_ok=True)


def _tiny_study(workdir: Path) -> None:
    (workdir / "config").mkdir(parents=True)
    write_sheet(
        workdir / "config" / "datasets.tsv",
        ["syn", "tokens", "synthetic", "", "", "", "stratified", "{n: 40, length: 60, evidence: start}"],
    )
    config = {
        "seeds": [0],
        "model": {"hidden": 8, "embedding": 4},
        "train": {
            "max_updates": 6,
            "eval_every": 3,
            "min_updates": 3,
            "patience": 1,
            "warmup": 2,
            "batch_size": 8,
        },
        "dataset_sheet": "config/datasets.tsv",
        "arms": {"full": {"reduce": "full"}, "first": {"reduce": "truncate", "keep": "first", "length": 10}},
    }
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def _snakemake(workdir: Path, env: dict, *args: str) -> str:
    cmd = [
        "timeout",
        "-k",
        "10",
        "600",
        f"{BIN}/snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=660)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def test_a_tiny_study_runs_through_slurm_and_matches_a_local_run(cluster, tmp_path):
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    _tiny_study(on_slurm)
    _tiny_study(local)
    output = _snakemake(
        on_slurm,
        cluster,
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--seconds-between-status-checks",
        "2",
        "--set-threads",
        "trained_model=1",
        "pretrained_encoder=1",
        "test_metrics=1",
        "reference_metrics=1",
        "--verbose",
    )
    sbatch = [line for line in output.splitlines() if "sbatch" in line and "--job-name" in line]
    # a training job and its evaluation are one submission (profiles/slurm: groups), on a GPU
    runs = [line for line in sbatch if "group_run_test_metrics_trained_model" in line]
    others = [line for line in sbatch if line not in runs]
    assert len(runs) == 2, "\n".join(sbatch)
    assert all("'trained_model:" in line and "'test_metrics:" in line for line in runs), runs[0]
    assert all("--gpus=1" in line and "-p gpu" in line for line in runs), runs[0]
    assert all("--gpus" not in line and "-p cpu" in line for line in others), others[0]
    (tmp_path / "sbatch_lines.txt").write_text(runs[0] + "\n" + others[0] + "\n")
    print("\n".join(["sbatch, training and its evaluation:", runs[0], "sbatch, a CPU job:", others[0]]))
    assert len(sbatch) == 6  # ingest, 2 reduce, 2 train + evaluate, the reference (the rest runs locally)

    _snakemake(local, dict(cluster, SLURM_CONF="/nonexistent"), "--cores", "2")
    a = pd.read_csv(on_slurm / "results" / "summary.csv").sort_values(["arm", "seed"])
    b = pd.read_csv(local / "results" / "summary.csv").sort_values(["arm", "seed"])
    for column in ("accuracy", "macro_f1", "best_update", "best_valid_accuracy"):
        assert a[column].fillna(-1).tolist() == b[column].fillna(-1).tolist(), (
            column
        )  # references: no updates
