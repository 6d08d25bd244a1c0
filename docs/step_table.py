"""The table of steps in docs/method.md: for each step of longseq.steps, the rules that run it,
the command they call, its log, the modules of its code digest, and what it writes, read from
the rule files (workflow/rules/*.smk), so the table says what the workflow does, never what it
once did: .venv/bin/python docs/step_table.py (tests/test_steps.py keeps docs/method.md equal)."""

import re
from pathlib import Path

from longseq.steps import STEPS

RULES = Path(__file__).resolve().parent.parent / "workflow" / "rules"


def sections(block: str) -> dict[str, str]:
    """A rule's text by section (`output`, `log`, ...): a section runs to the next keyword."""
    parts = re.split(r"^    (\w+):", block, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def rules() -> dict[str, dict[str, str]]:
    """rule -> its sections, from every rule file."""
    found = {}
    for path in sorted(RULES.rglob("*.smk")):
        for block in re.split(r"^rule ", path.read_text(), flags=re.MULTILINE)[1:]:
            name, body = block.split(":", 1)
            found[name.strip()] = sections(body)
    return found


def paths(section: str) -> list[str]:
    """The paths a section names: its quoted strings with a folder, not a report's caption."""
    return [p for p in re.findall(r'"([^"]+)"', section) if "/" in p and not p.startswith("../")]


def markdown() -> str:
    by_rule = rules()
    lines = [
        "| step | rule | command, log | code digest: modules (+ plug-ins named by the job) | writes |",
        "|---|---|---|---|---|",
    ]
    for step in STEPS.values():
        plugins = f" + {', '.join(step.plugins)}" if step.plugins else ""
        modules = ", ".join(f"`{m}`" for m in step.modules) or "none"
        for rule in step.rules:
            log = paths(by_rule[rule]["log"])[0]
            writes = "<br>".join(f"`{p}`" for p in paths(by_rule[rule]["output"]))
            lines.append(
                f"| {step.does} | `{rule}` | `longseq {step.command}`<br>`{log}` | {modules}{plugins} | {writes} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
