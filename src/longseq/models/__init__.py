"""Model types, one module each: a model's `type:` names the module (`lstm`, `bag`, ...).

A model module is found by its file name and loaded only when used, like the reducers and the
readers. It declares `build(ds, cfg, n_inputs, streams, steps) -> nn.Module`: a module whose
`forward(x, lengths)` returns logits and whose `fit_normalisation(train)` fits the input
scaling on the train split. Recurrent types also have `run(x, state)` and `predict_logits`
(see `lstm`), which the TBPTT and last-k modes and chunked prediction use.

Its `OPTIONS` is the JSON schema of its own options, each with its default (shared ones come
from `_options`); what every type takes is a field of `ModelConfig` (settings.py). The
workflow reads `OPTIONS` from the module's source, without importing torch, and checks every
arm's settings before any job runs.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module
from pathlib import Path

from ..settings import ModelConfig
from . import _options


def names() -> list[str]:
    """Every model type: the package's modules not starting with '_'."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def module(name: str):
    if name not in names():
        raise ValueError(f"unknown model type {name!r}; use one of {names()}")
    return import_module(f"{__name__}.{name}")


def describe(name: str) -> str:
    """The model type's one-line description, from its module docstring, without importing it
    (torch stays out of the workflow's parse)."""
    import ast

    return " ".join((ast.get_docstring(_source(name)) or name).split("\n\n")[0].split())


def _source(name: str):
    import ast

    if name not in names():
        raise ValueError(f"unknown model type {name!r}; use one of {names()}")
    return ast.parse((Path(__file__).parent / f"{name}.py").read_text())


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


def build_model(ds, config: ModelConfig | dict, steps: int | None = None):
    """The model an arm's settings name, sized for the data set. `steps`: the longest sequence
    it reads in training, which sets the chrono initialisation (None when weights are loaded)."""
    cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
    n_inputs = ds.vocab_size if ds.kind == "tokens" else ds.n_channels
    return module(cfg.type).build(ds, cfg, n_inputs, ds.meta.get("streams", 1), steps)


def table() -> str:
    """The model types as a markdown table (config/README.md holds it; a test keeps it current)."""
    rows = ["| `type:` | what it is | its own options |", "|---|---|---|"]
    for name in names():
        own = ", ".join(f"`{key}`" for key in options(name)) or "–"
        rows.append(f"| `{name}` | {describe(name)} | {own} |")
    return "\n".join(rows)
