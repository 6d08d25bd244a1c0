"""Model types, one module each: a model's `type:` names the module (`lstm`, `bag`, ...).

A model module is found by its file name and loaded only when used, like the reducers and the
readers. It declares `build(ds, cfg, n_inputs, streams, steps) -> nn.Module`: a module whose
`forward(x, lengths)` returns logits and whose `fit_normalisation(train)` fits the input
scaling on the train split. Recurrent types also have `run(x, state)` and `predict_logits`
(see `lstm`), which the TBPTT and last-k modes and chunked prediction use. Their settings are
fields of `ModelConfig` (settings.py), the one place for defaults.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from pathlib import Path

from ..settings import ModelConfig


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

    text = (Path(__file__).parent / f"{name}.py").read_text()
    return " ".join((ast.get_docstring(ast.parse(text)) or name).split("\n\n")[0].split())


def build_model(ds, config: ModelConfig | dict, steps: int | None = None):
    """The model an arm's settings name, sized for the data set. `steps`: the longest sequence
    it reads in training, which sets the chrono initialisation (None when weights are loaded)."""
    cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
    n_inputs = ds.vocab_size if ds.kind == "tokens" else ds.n_channels
    return module(cfg.type).build(ds, cfg, n_inputs, ds.meta.get("streams", 1), steps)


def table() -> str:
    """The model types as a markdown table (config/README.md holds it; a test keeps it current)."""
    rows = ["| `type:` | what it is |", "|---|---|"]
    return "\n".join(rows + [f"| `{name}` | {describe(name)} |" for name in names()])
