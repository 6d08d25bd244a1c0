"""`model: {scaling: auto}`: a signal data set's scaling, chosen on valid once for every arm.

Why: on five archive signal sets tried as a new user would (issue 31), scaling each record by
its own statistics decided one set (+0.41 accuracy) and helped two, while the train split's
statistics suit sets whose level carries the class (an appliance's power draw). No one choice
is right for all, so a short probe decides per data set: the learned summarizer's convolutional
ablation (the cheapest learned model that reads every step) trains once per candidate on the
train split, and the candidate with the lowest valid loss wins. The test split is never read.
One job per data set (results/scaling/<data set>.json), shared by every arm that asks for auto
and by all its seeds; the runs, their cards and the verdict record the choice.
"""

from __future__ import annotations

from ..core.data import Dataset
from ..core.settings import ModelConfig, TrainConfig
from ..reducers import instance_scaled

CANDIDATES = ("standard", "robust", "log", "instance")
PROBE_MODEL = {"type": "conv", "readout": "max"}
PROBE_SEED = 1000  # no study uses it for a final run; the same probe for every arm and seed


def probe_budget(train_settings: dict) -> dict:
    """A quarter of the data set's budget (at least 100 updates), never stopped before half of it."""
    cfg = TrainConfig.from_dict(train_settings)
    updates = max(100, cfg.max_updates // 4)
    return {
        **train_settings,
        "mode": "bptt",
        "max_updates": updates,
        "eval_every": max(1, updates // 5),
        "min_updates": updates // 2,
        "warmup": min(cfg.warmup, updates // 5),
    }


def scaled_for(ds: Dataset, scaling: str, where: str) -> Dataset:
    """The train and valid splits as a run with this scaling reads them (instance: each record
    by its own statistics, as the reduction does; the others are fitted by the model)."""
    splits = {name: ds.splits[name] for name in ("train", "valid")}
    if scaling == "instance":
        splits = {name: instance_scaled(split, where, name) for name, split in splits.items()}
    return Dataset(ds.kind, ds.classes, splits, ds.meta)


def choose(ds: Dataset, model_settings: dict, train_settings: dict, fit, where: str = "data set") -> dict:
    """Each candidate's best valid loss after the probe, and the lowest one's name. `fit(data
    set, model settings, train settings, seed)` trains a run and returns its history (the CLI
    passes longseq.steps.train's: only the CLI imports the training loop)."""
    if ds.kind != "signal":
        raise ValueError(f"{where}: scaling auto is for signals; {ds.kind} have no scaling to choose")
    shared = {k: v for k, v in model_settings.items() if k != "scaling"}
    model = ModelConfig.inherit({**shared, **PROBE_MODEL}, own=PROBE_MODEL)
    budget = probe_budget(train_settings)
    losses, accuracies = {}, {}
    for scaling in CANDIDATES:
        history = fit(scaled_for(ds, scaling, where), {**model, "scaling": scaling}, budget, PROBE_SEED)
        losses[scaling], accuracies[scaling] = history["best_valid_loss"], history["best_valid_accuracy"]
    chosen = min(CANDIDATES, key=lambda name: (losses[name], CANDIDATES.index(name)))
    return {
        "chosen": chosen,
        "valid_loss": losses,
        "valid_accuracy": accuracies,
        "probe": {"model": model, "train": budget, "seed": PROBE_SEED},
    }


def resolved(model_settings: dict, choice: dict | None) -> dict:
    """The arm's model settings with `auto` replaced by the data set's choice."""
    if model_settings.get("scaling") != "auto":
        return model_settings
    if choice is None:
        raise ValueError("model scaling is 'auto' but no scaling choice was given (--scaling)")
    return {**model_settings, "scaling": choice["chosen"]}
