"""`longseq choose`: a search's trials recorded in an Optuna study and the one with the lowest
valid loss chosen (valid only: no test). The space and the trials are longseq.steps.tuning's."""

from __future__ import annotations

import json
from pathlib import Path


def record(space: dict, trials: list[dict], histories: list[dict]):
    """An Optuna study holding the trials (value: best valid loss, lower is better); a trial
    whose training diverged is recorded as failed and cannot be chosen."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize")
    for params, history in zip(trials, histories):
        if "failed" in history:
            failed = {"failed": history["failed"]}
            study.add_trial(
                optuna.trial.create_trial(
                    params=params, distributions=space, state=optuna.trial.TrialState.FAIL, user_attrs=failed
                )
            )
            continue
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=space,
                value=history["best_valid_loss"],
                user_attrs={
                    "valid_accuracy": history["best_valid_accuracy"],
                    "updates": history["updates"],
                    "still_improving": history["still_improving"],
                    "train_seconds": history["train_seconds"],
                },
            )
        )
    return study


def choose(space: dict, trials: list[dict], history_files: list[str | Path], trials_csv, chosen_json) -> dict:
    """Record the trials and write the one with the lowest valid loss (valid only: no test)."""
    from ..core.data import DataError, atomic_write_bytes, atomic_write_json

    histories = [json.loads(Path(f).read_text()) for f in history_files]
    if all("failed" in h for h in histories):
        raise DataError(
            f"every one of the {len(histories)} search trials diverged ({histories[0]['failed']}); "
            "narrow the space's learning rates or lower grad_clip"
        )
    study = record(space, trials, histories)
    table = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    table = table.rename(columns={"number": "trial", "value": "valid_loss"}).rename(
        columns=lambda c: c.removeprefix("user_attrs_")
    )
    atomic_write_bytes(trials_csv, table.to_csv(index=False).encode())
    best = study.best_trial
    chosen = {
        "trial": best.number,  # trials are added in order: Optuna's number is the trial's
        "params": best.params,
        "valid_loss": best.value,
        "valid_accuracy": best.user_attrs["valid_accuracy"],
        "untuned_valid_loss": histories[0].get("best_valid_loss"),  # None: trial 0 diverged
        "untuned_valid_accuracy": histories[0].get("best_valid_accuracy"),
        "trials": len(trials),
        "failed": [i for i, h in enumerate(histories) if "failed" in h],
    }
    atomic_write_json(chosen_json, chosen)
    return chosen
