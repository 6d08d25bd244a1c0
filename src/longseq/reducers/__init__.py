"""Length-reduction strategies, one module each: an arm's `reduce:` names the module.

A reducer module (`truncate.py`, ...) is found by its file name, the way readers are in
`sources/`, and loaded only when an arm uses it. It declares:

- `reduce(ds, arm) -> Dataset`: the same kind and classes, shorter sequences. Anything fitted
  (token frequency ranks) is fitted on the train split only, then applied to every split.
- `OPTIONS` (and `REQUIRED`): the JSON schema of its options, which checks every arm before
  any job runs; the module docstring's first line describes it in the docs.
- optionally `min_steps(arm)`: the fewest steps a record needs (default 1);
  `family(arm)`: the length sweep the arm belongs to in the report;
  `draw(split, spec, seed, name, epoch)`: what each run draws from its seed (random samples, a
  projection), so that seeds differ in it and training sees fresh samples every epoch.

Adding a strategy is adding one module here (see docs/method.md, "Adding a strategy"); the
workflow digests only the modules an arm uses, so it reruns nothing else.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import numpy as np

from ..core.data import DataError, Dataset, Split
from ..core.plugins import REDUCERS

# what an arm holds besides its reduction's options
ARM_KEYS = {"reduce", "model", "train", "pretrain"}


def names() -> list[str]:
    """Every reducer: the package's modules not starting with '_' (longseq.core.plugins)."""
    return REDUCERS.names()


@cache
def module(name: str) -> ModuleType:
    return REDUCERS.load(name)


def options_schema(name: str) -> dict:
    """The JSON schema of an arm that uses reducer `name` (its options plus the arm's keys),
    read from the reducer's source like every plug-in's."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["reduce", *REDUCERS.required(name)],
        "properties": {**{key: {} for key in ARM_KEYS}, **REDUCERS.options(name)},
    }


def check_arm(arm: dict, where: str) -> None:
    """Refuse an arm whose options its reducer does not know or accept, naming the option."""
    if "reduce" not in arm:
        raise ValueError(f"{where}: no 'reduce:'; use one of {names()}")
    try:
        REDUCERS.check(arm["reduce"], arm, options_schema(arm["reduce"]))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


describe = REDUCERS.describe  # the module docstring's first paragraph


def family(arm: dict) -> str:
    """The length sweep an arm belongs to ('other' if it has none or changes more than length)."""
    if ARM_KEYS & set(arm) - {"reduce"}:
        return "other"
    fn = getattr(module(arm["reduce"]), "family", None)
    return fn(arm) if fn else "other"


def min_steps(arm: dict) -> int:
    fn = getattr(module(arm["reduce"]), "min_steps", None)
    return fn(arm) if fn else 1


def check_lengths(ds: Dataset, arm: dict, where: str) -> None:
    """Refuse, before any training, records too short for the arm, naming the first few."""
    need = min_steps(arm)
    for split_name, split in ds.splits.items():
        short = np.flatnonzero(split.lengths < need)
        if len(short):
            first = ", ".join(f"{int(split.origin[r])} ({int(split.lengths[r])} steps)" for r in short[:5])
            raise DataError(
                f"{where}: {len(short)} {split_name} records are shorter than the {need} steps reduce "
                f"{arm['reduce']!r} needs with these settings, the first: {first}; lower the arm's "
                f"setting, or drop shorter records with the sheet option min_length: {need}"
            )


def instance_scaled(split: Split, where: str, split_name: str) -> Split:
    """Each channel of each record standardised by its own mean and standard deviation over its
    steps (the UCR convention): fits nothing, so nothing leaks from one record to another. A
    channel constant over a record becomes 0 (its deviation is taken as 1)."""
    values = np.asarray(split.values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataError(
            f"{where}: {split_name} has values that are not finite; instance scaling needs numbers"
        )
    lengths = split.lengths
    owner = np.repeat(np.arange(len(split)), lengths)
    count = np.maximum(lengths, 1)[:, None]
    mean = np.zeros((len(split), values.shape[1]))
    np.add.at(mean, owner, values)
    mean /= count
    centred = values - mean[owner]
    var = np.zeros_like(mean)
    np.add.at(var, owner, centred**2)
    std = np.sqrt(var / count)
    std[std < 1e-8] = 1.0
    scaled = (centred / std[owner]).astype(np.float32)
    return Split(scaled, split.offsets, split.labels, split.origin)


def reduce_dataset(ds: Dataset, arm: dict, where: str = "data set") -> Dataset:
    """Apply the arm's reducer and record the reduction in the metadata. With the arm's
    `model: {scaling: instance}`, signals are scaled record by record first, so that every view
    a reducer cuts keeps its whole record's scaling."""
    check_arm(arm, where)
    check_lengths(ds, arm, where)
    if arm.get("model", {}).get("scaling") == "instance" and ds.kind != "tokens":
        splits = {name: instance_scaled(split, where, name) for name, split in ds.splits.items()}
        ds = Dataset(ds.kind, ds.classes, splits, ds.meta)
    out = module(arm["reduce"]).reduce(ds, arm)
    out.meta["arm"] = arm
    out.meta["input"] = ds.input_format()  # what new records must look like before this reduction
    return out


def draw_split(ds: Dataset, name: str, seed: int, epoch: int = 0) -> Split:
    """The split a run reads: for a random reduction, drawn now by its reducer from the run's
    seed (see each module's `draw`); any other: the stored split as it is."""
    split = ds.splits[name]
    for reducer, spec in ds.meta.get("draw", {}).items():
        split = module(reducer).draw(split, spec, seed, name, epoch)
    return split


def draw(ds: Dataset, seed: int, epoch: int = 0) -> Dataset:
    """The data set as one run reads it (see `draw_split`), every split it holds."""
    if "draw" not in ds.meta:
        return ds
    return Dataset(
        ds.kind, ds.classes, {name: draw_split(ds, name, seed, epoch) for name in ds.splits}, ds.meta
    )


def table() -> str:
    """The reducers as a markdown table (config/README.md holds it; a test keeps it current)."""
    rows = ["| `reduce:` | what the LSTM reads | options |", "|---|---|---|"]
    for name in names():
        mod = module(name)
        required = set(getattr(mod, "REQUIRED", []))
        options = ", ".join(f"`{k}`" + ("*" if k in required else "") for k in mod.OPTIONS) or "–"
        rows.append(f"| `{name}` | {describe(name)} | {options} |")
    return "\n".join(rows)
