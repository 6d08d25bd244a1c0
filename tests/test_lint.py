"""One shape for the code: the workflow passes `snakemake --lint` and snakefmt, the Python
ruff format and ruff check (pinned in the test extras; configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [str(BIN / "snakemake"), "--lint", "--snakefile", str(REPO / "Snakefile"), "--directory", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Congratulations, your workflow is in a good condition!" in output, output


def test_workflow_is_snakefmt_formatted():
    result = subprocess.run(
        [str(BIN / "snakefmt"), "--check", "Snakefile", "workflow"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_is_ruff_formatted_and_clean():
    """Every Python file of the repository: a diff is then about behaviour, never layout."""
    for command in (["format", "--check", "--diff"], ["check", "--output-format", "concise"]):
        result = subprocess.run(
            [str(BIN / "ruff"), *command, "."], capture_output=True, text=True, cwd=REPO, timeout=120
        )
        assert result.returncode == 0, f"ruff {' '.join(command)}:\n{result.stdout}{result.stderr}"
