"""The model types as the workflow sees them, without importing torch: their names (the
modules of longseq.models), one-line descriptions and option schemas (`OPTIONS`, read from
each module's source), and the check of an arm's settings against them. settings.py and the
workflow's parse use these; building a model is longseq.models."""

from __future__ import annotations

import pkgutil
from functools import cache
from pathlib import Path

from . import _options

HERE = Path(__file__).parent


def names() -> list[str]:
    """Every model type: the package's modules not starting with '_'."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))


def describe(name: str) -> str:
    """The model type's one-line description, from its module docstring, without importing it
    (torch stays out of the workflow's parse)."""
    import ast

    return " ".join((ast.get_docstring(_source(name)) or name).split("\n\n")[0].split())


def _source(name: str):
    import ast

    if name not in names():
        raise ValueError(f"unknown model type {name!r}; use one of {names()}")
    return ast.parse((HERE / f"{name}.py").read_text())


@cache
def options(name: str) -> dict:
    """The type's options schema (`OPTIONS` in its module), evaluated from the source with only
    the shared schemas of `_options` in scope: torch stays out of the workflow's parse."""
    import ast

    for node in _source(name).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "OPTIONS" for t in node.targets):
            scope = {k: v for k, v in vars(_options).items() if k.isupper()}
            return eval(compile(ast.Expression(node.value), name, "eval"), {"__builtins__": {}}, scope)
    return {}


def takes(name: str) -> set[str]:
    """The names of the type's own options."""
    return set(options(name))


def check_options(name: str, values: dict) -> dict:
    """The type's options with defaults filled in; refuses one it does not take or a bad value,
    naming it and what the type takes."""
    import jsonschema

    schema = {"type": "object", "additionalProperties": False, "properties": options(name)}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(values))
    if error is not None:
        at = ".".join(str(p) for p in error.absolute_path)
        raise ValueError(
            f"model type {name!r}: {at + ': ' if at else ''}{error.message} "
            f"(it takes {sorted(options(name)) or 'no options of its own'})"
        )
    return {key: values.get(key, spec.get("default")) for key, spec in options(name).items()}


def table() -> str:
    """The model types as a markdown table (config/README.md holds it; a test keeps it current)."""
    rows = ["| `type:` | what it is | its own options |", "|---|---|---|"]
    for name in names():
        own = ", ".join(f"`{key}`" for key in options(name)) or "–"
        rows.append(f"| `{name}` | {describe(name)} | {own} |")
    return "\n".join(rows)
