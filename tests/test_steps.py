"""The step table (longseq.steps) is the workflow's: every rule that calls `longseq` is a row of
it with the command it calls, no rule file names a package file, and docs/method.md shows it."""

import re

from conftest import REPO

from longseq import steps

RULES = sorted((REPO / "workflow" / "rules").rglob("*.smk"))


def commands_by_rule() -> dict[str, str]:
    """rule -> the `longseq` command its shell calls, read from the rule files."""
    found = {}
    for path in RULES:
        for block in re.split(r"^rule ", path.read_text(), flags=re.MULTILINE)[1:]:
            name = block.split(":", 1)[0].strip()
            shell = block.split("shell:", 1)[1] if "shell:" in block else ""
            command = re.search(r'"longseq ([a-z-]+)', shell)
            if command:
                found[name] = command.group(1)
    return found


def test_every_rule_that_calls_longseq_is_a_row_of_the_step_table_with_its_command():
    by_rule = commands_by_rule()
    assert len(by_rule) >= 15
    table = {rule: row.command for row in steps.STEPS.values() for rule in row.rules}
    assert by_rule == table


def test_no_rule_file_names_a_package_file_and_the_digests_come_from_the_table():
    for path in RULES:
        assert not re.search(r'\w+\.py"', path.read_text()), f"{path} names a package file"
    lstm, bag = (steps.code("train", reducer="full", model=model) for model in ("lstm", "bag"))
    assert lstm != bag


def test_docs_show_the_step_table_as_the_package_prints_it():
    assert steps.markdown() in (REPO / "docs" / "method.md").read_text()
