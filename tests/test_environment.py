"""environment.yml (conda users) and pyproject.toml (pip users) must ask for the same packages."""

import tomllib

import pytest
import yaml
from conftest import REPO


@pytest.mark.parametrize(
    ("env_file", "with_tests"), [("environment.yml", True), ("workflow/envs/longseq.yaml", False)]
)
def test_environment_matches_pyproject(env_file, with_tests):
    """One list, pyproject.toml: the top-level file for conda users is it plus the test tools;
    the workflow's (`snakemake --use-conda`) is what the rules run, no test or lint tools."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | (
        set(project["optional-dependencies"]["test"]) if with_tests else set()
    )
    env = yaml.safe_load((REPO / env_file).read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    package = {"-e .", "-e ../.."}
    assert set(pip_section) - package == wanted and len(set(pip_section) & package) == 1
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python=3.11"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make study" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_make_says_what_is_missing_before_installing_anything(tmp_path):
    """On a machine without the named Python (or its venv module), `make` stops at once with
    what to install, and creates nothing."""
    import shutil
    import subprocess

    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    result = subprocess.run(
        ["make", "install", "PYTHON=python3.99"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert (
        "python3.99 not found. Install Python 3.11 (Debian/Ubuntu: apt-get install python3.11"
        in result.stdout
    )
    assert not (tmp_path / ".venv").exists()
