"""Each shipped profile, given alone with --profile, decides the threads and resources of the
jobs: profiles/default (which Snakemake reads on every run, last) must not override them.
Checked on dry runs of the .test study with a search, so that every rule has a job."""

import re
import subprocess

import pytest
import yaml
from conftest import REPO
from test_workflow import BIN, tiny_config

PROFILES = REPO / "profiles"


def jobs_by_rule(output: str) -> dict[str, dict]:
    """The first job of each rule in a dry run's listing: its threads and resources."""
    jobs = {}
    for block in re.split(r"\n\s*(?=(?:local)?rule \w+:)", output):
        name = re.match(r"\s*(?:local)?rule (\w+):", block)
        if not name or name.group(1) in jobs:
            continue
        threads = re.search(r"^\s*threads: (\d+)", block, re.MULTILINE)
        resources = re.search(r"^\s*resources: (.*)$", block, re.MULTILINE)
        pairs = [item.split("=", 1) for item in resources.group(1).split(", ")] if resources else []
        jobs[name.group(1)] = {"threads": int(threads.group(1)) if threads else 1, **dict(pairs)}
    return jobs


def declared_threads() -> dict[str, int]:
    """The threads each rule declares itself (1 where it declares none)."""
    threads = {}
    for path in [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]:
        for rule, body in re.findall(
            r"^(?:local)?rule (\w+):\n((?:[ \t]+.*\n|\n)*)", path.read_text(), re.MULTILINE
        ):
            found = re.search(r"^\s+threads: (\d+)", body, re.MULTILINE)
            threads[rule] = int(found.group(1)) if found else 1
    return threads


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profiles")
    config = tiny_config(tmp)
    config["tune"] = {
        "trials": 2,
        "space": {"train": {"batch_size": [8, 16]}},
        "arms": {"first": {"reduce": {"length": [10, 20]}}},
    }
    (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp


def dry_run(study, *args) -> str:
    # --cores 64: a dry run otherwise caps every job's threads at 1 (or at this machine's cores)
    command = [
        f"{BIN}/snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(study),
        "-n",
        "--cores",
        "64",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.mark.parametrize("profile", ["gpu", "slurm"])
def test_a_profile_alone_sets_every_jobs_threads_and_resources(study, profile):
    settings = yaml.safe_load((PROFILES / profile / "config.yaml").read_text())
    jobs = jobs_by_rule(dry_run(study, "--profile", str(PROFILES / profile)))
    own = declared_threads()
    assert {"trained_model", "test_metrics", "trial_history", "reduced_dataset", "reference_metrics"} <= set(
        jobs
    )
    defaults = settings.get("default-resources", {})
    for rule, job in jobs.items():
        assert job["threads"] == settings.get("set-threads", {}).get(rule, own[rule]), (profile, rule, job)
        wanted = {**defaults, **settings.get("set-resources", {}).get(rule, {})}
        if "slurm_partition" in wanted:
            assert job["slurm_partition"] == wanted["slurm_partition"], (profile, rule, job)
    # a rule that sizes nothing itself gets the profile's default memory and time
    assert jobs["reduced_dataset"]["mem_mb"] == str(defaults["mem_mb"])
    assert jobs["reduced_dataset"]["runtime"] == str(defaults["runtime"])


def test_without_a_profile_jobs_get_the_rules_own_threads_and_no_cluster_settings(study):
    jobs = jobs_by_rule(dry_run(study))
    own = declared_threads()
    for rule, job in jobs.items():
        assert job["threads"] == own[rule] and "slurm_partition" not in job, (rule, job)


def test_the_workflow_profile_sizes_nothing():
    """What profiles/default sets would win over every --profile; it must set none of this."""
    settings = yaml.safe_load((PROFILES / "default" / "config.yaml").read_text())
    sizing = {"cores", "jobs", "set-threads", "set-resources", "default-resources", "resources", "executor"}
    assert not sizing & set(settings), settings
