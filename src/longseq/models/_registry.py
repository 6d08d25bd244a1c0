"""The model types as the workflow sees them, without importing torch (the plug-in protocol of
longseq.core.plugins): their names, descriptions and option schemas, the check of an arm's settings
against them, and the table config/README.md shows. Building a model is longseq.models."""

from __future__ import annotations

from ..core.plugins import MODELS

names, describe, options = MODELS.names, MODELS.describe, MODELS.options


def takes(name: str) -> set[str]:
    """The names of the type's own options."""
    return set(options(name))


def check_options(name: str, values: dict) -> dict:
    """The type's options with defaults filled in; refuses one it does not take or a bad value."""
    return MODELS.check(name, values)


def table() -> str:
    """The model types as a markdown table (config/README.md holds it; a test keeps it current)."""
    rows = ["| `type:` | what it is | its own options |", "|---|---|---|"]
    for name in names():
        own = ", ".join(f"`{key}`" for key in options(name)) or "–"
        rows.append(f"| `{name}` | {describe(name)} | {own} |")
    return "\n".join(rows)
