"""The step table (longseq.steps) is the workflow's: every rule that calls `longseq` is a row of
it with the command it calls, no rule file names a package file, and docs/method.md shows it."""

import re
import runpy

from conftest import REPO

from longseq import steps

RULES = sorted((REPO / "workflow" / "rules").rglob("*.smk"))


def rule_blocks() -> dict[str, str]:
    """rule -> its text, read from the rule files."""
    found = {}
    for path in RULES:
        for block in re.split(r"^rule ", path.read_text(), flags=re.MULTILINE)[1:]:
            found[block.split(":", 1)[0].strip()] = block
    return found


def commands_by_rule() -> dict[str, str]:
    """rule -> the `longseq` command its shell calls."""
    found = {}
    for name, block in rule_blocks().items():
        command = re.search(r'"longseq ([a-z-]+)', block.split("shell:", 1)[1] if "shell:" in block else "")
        if command:
            found[name] = command.group(1)
    return found


def test_every_rule_that_calls_longseq_is_a_row_of_the_step_table_with_its_command():
    by_rule = commands_by_rule()
    assert len(by_rule) >= 15
    table = {rule: row.command for row in steps.STEPS.values() for rule in row.rules}
    assert by_rule == table


def test_each_rule_digests_the_step_it_runs():
    """A rule's `code` param is the digest of the step whose command it calls: one name each."""
    by_rule = commands_by_rule()
    for name, block in rule_blocks().items():
        step = re.search(r'code=step_code\("([a-z-]+)"\)', block)
        if step:
            assert (
                steps.STEPS[step.group(1)].command == by_rule[name]
                and name in steps.STEPS[step.group(1)].rules
            )
    named = [n for n, b in rule_blocks().items() if "step_code(" in b]
    assert len(named) >= 15


def test_no_rule_file_names_a_package_file_and_the_digests_come_from_the_table():
    for path in RULES:
        assert not re.search(r'\w+\.py"', path.read_text()), f"{path} names a package file"
    lstm, bag = (steps.code("train", reducer="full", model=model) for model in ("lstm", "bag"))
    assert lstm != bag


def test_docs_show_the_step_table_as_the_package_and_the_rule_files_give_it():
    table = runpy.run_path(str(REPO / "docs" / "step_table.py"))["markdown"]()
    assert table in (REPO / "docs" / "method.md").read_text()
    assert table.count("\n| ") == sum(len(row.rules) for row in steps.STEPS.values())
    evaluate = next(line for line in table.splitlines() if "`test_metrics`" in line)
    assert "`logs/evaluate/" in evaluate and "`results/metrics/{dataset}/{arm}/seed{seed}.json`" in evaluate


def test_snakemake_internals_are_read_in_one_function_only():
    """The workflow uses Snakemake's documented API (`config`, `rules`, `workflow.current_basedir`);
    the three things Snakemake 9 offers no public API for (the study files on the command line,
    the planned jobs, local or cluster) are read in `snakemake_plan` of common.smk and nowhere
    else, so a Snakemake that moves them breaks one function (and its start-line test)."""
    public = {"current_basedir", "rst"}  # rst: workflow.rst, a report file's name
    common = REPO / "workflow" / "rules" / "common.smk"
    for path in [REPO / "Snakefile", *RULES]:
        text = path.read_text()
        if path == common:
            plan = text.split("def snakemake_plan():")[1].split("\ndef ")[0]
            text = text.replace(plan, "")
        used = set(re.findall(r"\bworkflow\.(\w+)", text)) - public
        assert not used, f"{path.name} reads Snakemake's workflow.{sorted(used)} outside snakemake_plan"


def test_a_steps_log_is_named_after_it():
    """Every rule logs under logs/<its step's command>: one name for the step's command, its
    digest row and its log; the rule is named after what it produces (the template's habit)."""
    step_of = {rule: name for name, row in steps.STEPS.items() for rule in row.rules}
    found = {}
    for path in RULES:
        for rule, log in re.findall(
            r"^rule (\w+):.*?\n    log:\n        \"([^\"]+)\"", path.read_text(), re.MULTILINE | re.DOTALL
        ):
            found[rule] = log
    assert set(found) == set(step_of), set(found) ^ set(step_of)
    for rule, log in found.items():
        assert re.match(rf"logs/{step_of[rule]}[/.]", log), (
            f"rule {rule} logs to {log}, not logs/{step_of[rule]}"
        )
