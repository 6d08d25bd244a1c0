"""An equal hyperparameter search per arm: trials fixed up front, run as jobs, chosen on valid
(the choice: longseq.steps.choose, which keeps their records in an Optuna study).

Optuna draws the trials (a seeded `RandomSampler` asked for each trial's settings). A Snakemake DAG must know its jobs before any runs, so an adaptive sampler (TPE)
would serialise the trials; random trials fixed up front let a cluster run them side by side,
reruns reproduce them, and adding trials keeps the earlier ones (the sampler's draws are a
sequence). The settings shared by every arm (learning rate, sizes, dropout, batch, weight
decay) are drawn once, so trial i of every arm starts from the same draw; an arm's own knobs
(truncation length, window, k2) come from a second sampler seeded by the arm's name.

Trial 0 is the study's own (untuned) settings, so the search can only match or improve on
them on valid, and the report can show tuned beside untuned. Parameter names are
`<section>.<key>`: `model.hidden`, `train.lr`, `reduce.length`.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

SECTIONS = ("model", "train", "reduce")


def distributions(space: dict) -> dict:
    """`{section: {key: [choices] | {low, high, log?, step?}}}` -> Optuna distributions."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for section, keys in space.items():
        if section not in SECTIONS:
            raise ValueError(f"tune space: unknown section {section!r}; use {SECTIONS}")
        for key, spec in keys.items():
            name = f"{section}.{key}"
            if isinstance(spec, list):
                out[name] = CategoricalDistribution(spec)
            elif isinstance(spec["low"], int) and isinstance(spec["high"], int):
                out[name] = IntDistribution(
                    spec["low"], spec["high"], log=spec.get("log", False), step=spec.get("step", 1)
                )
            else:
                out[name] = FloatDistribution(
                    float(spec["low"]), float(spec["high"]), log=spec.get("log", False)
                )
    return out


def _draws(dists: dict, n: int, seed: int) -> list[dict]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    draws = []
    for _ in range(n):
        trial = study.ask(dists)
        draws.append(dict(trial.params))
        study.tell(trial, 0.0)  # the value is irrelevant to a random sampler
    return draws


def arm_seed(seed: int, arm: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(arm.encode())) % 2**31


def draw_trials(tune: dict, arm: str, model_options: set | None = None) -> list[dict]:
    """The arm's trials as `{param: value}` overrides; trial 0 is `{}` (the untuned settings).
    The shared draws are the same for every arm (less the model knobs its type lacks)."""
    n, seed = int(tune["trials"]), int(tune.get("seed", 0))
    shared = _draws(distributions(tune.get("space", {})), n - 1, seed)
    if model_options is not None:
        shared = [
            {k: v for k, v in d.items() if not k.startswith("model.") or k[6:] in model_options}
            for d in shared
        ]
    own_space = tune.get("arms", {}).get(arm, {})
    own = _draws(distributions(own_space), n - 1, arm_seed(seed, arm)) if own_space else [{}] * (n - 1)
    return [{}] + [a | b for a, b in zip(shared, own)]


def arm_space_config(tune: dict, arm: str, model_options: set | None = None) -> dict:
    """The space shared by every arm with the arm's own knobs added, section by section. Shared
    model knobs outside `model_options` (what the arm's model type takes) are left out: the
    bag has no `layers` to search."""
    space = {section: dict(keys) for section, keys in tune.get("space", {}).items()}
    if model_options is not None and "model" in space:
        space["model"] = {k: v for k, v in space["model"].items() if k in model_options}
    for section, keys in tune.get("arms", {}).get(arm, {}).items():
        space.setdefault(section, {}).update(keys)
    return {section: keys for section, keys in space.items() if keys}


def arm_space(tune: dict, arm: str, model_options: set | None = None) -> dict:
    return distributions(arm_space_config(tune, arm, model_options))


def apply(settings: dict, params: dict, section: str) -> dict:
    """One section's settings with a trial's overrides for that section. A reduction knob must
    be one the arm has: a search cannot give an arm a reduction it does not use."""
    prefix = section + "."
    overrides = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
    if section == "reduce" and set(overrides) - set(settings):
        raise ValueError(
            f"tune: reduce.{min(set(overrides) - set(settings))} is not a setting of this arm "
            f"(it has {sorted(k for k in settings if k not in ('model', 'train', 'reduce'))})"
        )
    return dict(settings) | overrides


def untuned_values(space: dict, settings: dict) -> dict:
    """Trial 0's values, read from the merged settings (`settings[section][key]`, with the
    dataclass defaults filled in by the caller); each must lie in the space, or the search
    could not compare with the untuned run on equal terms."""
    values = {}
    for name, dist in space.items():
        section, key = name.split(".", 1)
        value = settings.get(section, {}).get(key)
        if value is None or not _contains(dist, value):
            raise ValueError(
                f"tune: trial 0 is the study's own settings, but {name} = {value!r} is not in "
                f"its search space {_describe(dist)}; widen the space or change the setting"
            )
        values[name] = value
    return values


def _contains(dist, value) -> bool:
    if hasattr(dist, "choices"):
        return value in dist.choices
    return isinstance(value, (int, float)) and dist.low <= value <= dist.high


def _describe(dist) -> str:
    return str(list(dist.choices)) if hasattr(dist, "choices") else f"[{dist.low}, {dist.high}]"


def chosen_overrides(path: str | Path | None) -> dict:
    """The chosen trial's `{param: value}` overrides, or none without tuning."""
    return json.loads(Path(path).read_text())["params"] if path else {}
