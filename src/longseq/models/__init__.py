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

from ..core.plugins import MODELS
from ..core.settings import ModelConfig
from ._registry import check_options, describe, names, options, table, takes

__all__ = ["build_model", "check_options", "describe", "module", "names", "options", "table", "takes"]


def module(name: str):
    return MODELS.load(name)


def build_model(ds, config: ModelConfig | dict, steps: int | None = None):
    """The model an arm's settings name, sized for the data set. `steps`: the longest sequence
    it reads in training, which sets the chrono initialisation (None when weights are loaded)."""
    cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
    n_inputs = ds.vocab_size if ds.kind == "tokens" else ds.n_channels
    return module(cfg.type).build(ds, cfg, n_inputs, ds.meta.get("streams", 1), steps)
