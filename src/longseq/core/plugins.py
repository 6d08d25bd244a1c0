"""The plug-in protocol. Readers, reducers, model types and references are each a folder of
modules, one per plug-in, found by its file name; each is read the same way without importing it (torch
stays out of the workflow's parse): its names, its one-line description (the module
docstring's first paragraph), the JSON schema of its options (`OPTIONS`, and `REQUIRED`, read
from the source, with the folder's shared schemas of `_options.py` in scope), and the check of
settings against that schema. `load` imports a plug-in when a job runs it. No package import
here, so every layer may use it (settings.py does, for the model types)."""

from __future__ import annotations

import ast
import pkgutil
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # src/longseq


@dataclass(frozen=True)
class Kind:
    folder: str  # a subpackage of longseq: sources, reducers, models, references
    noun: str  # what an error calls one: "reader", "reduce", "model type", "reference"

    def names(self) -> list[str]:
        """Every plug-in of the kind: the folder's modules not starting with '_'."""
        found = pkgutil.iter_modules([str(PACKAGE / self.folder)])
        return sorted(m.name for m in found if not m.name.startswith("_"))

    def describe(self, name: str) -> str:
        return " ".join((ast.get_docstring(_tree(self, name)) or name).split("\n\n")[0].split())

    def options(self, name: str) -> dict:
        """The plug-in's options schema (its `OPTIONS`), each with its default."""
        return _constant(self, name, "OPTIONS", {})

    def required(self, name: str) -> list[str]:
        return _constant(self, name, "REQUIRED", [])

    def constant(self, name: str, constant: str, default=None):
        """Any other literal the plug-in declares (a reader's `KINDS`, say)."""
        return _constant(self, name, constant, default)

    def shared(self, constant: str):
        """A schema the folder's `_options.py` declares for all its plug-ins."""
        return _scope(self.folder)[constant]

    def check(self, name: str, values: dict, schema: dict | None = None) -> dict:
        """`values` checked against the plug-in's options (or `schema`), with defaults filled
        in; a value it does not take, or a bad one, is refused, naming it and what it takes."""
        import jsonschema

        options = self.options(name)
        schema = schema or {"type": "object", "additionalProperties": False, "properties": options}
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(values))
        if error is not None:
            at = ".".join(str(p) for p in error.absolute_path)
            raise ValueError(
                f"{self.noun} {name!r}: {at + ': ' if at else ''}{error.message} "
                f"(it takes {sorted(options) or 'no options of its own'})"
            )
        return {key: values.get(key, spec.get("default")) for key, spec in options.items()}

    def load(self, name: str):
        self.check_name(name)
        return import_module(f"longseq.{self.folder}.{name}")

    def check_name(self, name: str) -> None:
        if name not in self.names():
            raise ValueError(f"unknown {self.noun} {name!r}; use one of {self.names()}")


@cache
def _tree(kind: Kind, name: str) -> ast.Module:
    kind.check_name(name)
    return ast.parse((PACKAGE / kind.folder / f"{name}.py").read_text())


@cache
def _scope(folder: str) -> dict:
    """The shared schemas a folder's plug-ins build their OPTIONS from (its `_options.py`)."""
    path = PACKAGE / folder / "_options.py"
    scope: dict = {}
    for node in ast.parse(path.read_text()).body if path.exists() else []:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            value = eval(compile(ast.Expression(node.value), str(path), "eval"), {"__builtins__": {}}, scope)
            scope.update({t.id: value for t in node.targets})
    return {k: v for k, v in scope.items() if k.isupper()}


def _constant(kind: Kind, name: str, constant: str, default):
    """A module-level constant of a plug-in, evaluated from its source (literals and the
    folder's shared schemas only)."""
    for node in _tree(kind, name).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [target] if target else []
        if any(getattr(t, "id", None) == constant for t in targets) and node.value is not None:
            code = compile(ast.Expression(node.value), name, "eval")
            return eval(code, {"__builtins__": {}}, dict(_scope(kind.folder)))
    return default


READERS = Kind("sources", "reader")
REDUCERS = Kind("reducers", "reduce")
MODELS = Kind("models", "model type")
REFERENCES = Kind("references", "reference")
