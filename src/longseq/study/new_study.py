"""A complete study file for a user's own data sheet: the default study's arms and settings,
each written out with what it means, so that a --configfile (which replaces the default study)
starts from the same place. Settings come from where they live (settings.py, the config schema,
the default study's arms); nothing here is a second copy of a default."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import yaml

from ..core.settings import ModelConfig, TrainConfig, as_dict

# A data set with fewer train records than this gets small batches and a larger budget, as the
# default study gives ACSF1 (80 training series): at batch 32 an epoch would be 2-3 updates and
# 600 updates would stop most runs still improving (tests/test_workflow.py keeps the two equal).
FEW_RECORDS = 128
FEW_RECORDS_TRAIN = {"batch_size": 16, "max_updates": 1500, "eval_every": 100, "min_updates": 500}

TRAIN_WRITTEN = (
    "max_updates",
    "eval_every",
    "min_updates",
    "patience",
    "warmup",
    "schedule",
    "batch_size",
    "lr",
    "grad_clip",
    "weight_decay",
)  # mode and its k's are per arm
MODEL_WRITTEN = ("hidden", "layers", "embedding", "dropout", "init", "scaling", "readout")


def _note(spec: dict) -> str:
    """A setting's description, to its first semicolon: one line beside the value."""
    return " ".join(spec.get("description", "").split()).split("; ")[0]


def _descriptions(schema: dict) -> dict[str, dict[str, str]]:
    """Setting -> what it means, per section, from the config schema and the LSTM's OPTIONS."""
    from ..models import options

    out = {
        section: {k: _note(v) for k, v in schema["$defs"][section]["properties"].items()}
        for section in ("model", "train")
    }
    out["model"].update({k: _note(v) for k, v in options("lstm").items() if k not in out["model"]})
    out["verdict"] = {k: _note(v) for k, v in schema["properties"]["verdict"]["properties"].items()}
    return out


def _block(name: str, values: dict, notes: dict[str, str], indent: str = "  ") -> list[str]:
    lines = [f"{name}:"]
    for key, value in values.items():
        text = yaml.safe_dump({key: value}, default_flow_style=True, width=1000).strip()[1:-1]
        note = notes.get(key, "")
        lines.append(f"{indent}{text}" + (f"   # {note}" if note else ""))
    return lines


def _arms_text(template: str) -> list[str]:
    """The template study's `arms:` block, comments and all, as written there."""
    lines = template.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("arms:"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha()), len(lines))
    return lines[start:end]


def train_records(spec: dict, name: str) -> int | None:
    """How many records the data set's train split holds, or None where the row fetches its
    archive on the first run and it is not here yet. A row that cannot be read is refused with
    its reader's message (file, record, fix): a missing file that no fetch recipe will download,
    or a file that is here and unreadable, would fail the study's first job instead."""
    from .. import sources
    from ..core.data import DataError, MissingFile

    if spec.get("fetch") and spec.get("path") and not Path(spec["path"]).exists():
        return None
    try:
        return len(sources.ingest(spec, name).splits["train"].labels)
    except (DataError, FileNotFoundError) as exc:
        if isinstance(exc, MissingFile) and not spec.get("fetch"):
            exc = f"{exc.path}: file not found, and the row has no fetch recipe, so nothing will download it; fix the path"
        raise DataError(f"sheet row {name!r}: {exc}; no study file written") from None


def study_file(sheet: str, template: Path, schema: dict, counts: dict) -> str:
    """The YAML text of a whole study over `sheet`'s rows; `counts` holds each row's train
    records (None: unknown)."""
    notes = _descriptions(schema)
    model = {k: v for k, v in as_dict(ModelConfig.from_dict({})).items() if k in MODEL_WRITTEN}
    # a new user's signals get their scaling chosen on valid: no one fixed scaling suits every
    # signal set (longseq.steps.choose_scaling); token data sets have none to choose and ignore it
    model["scaling"] = "auto"
    train = {f.name: getattr(TrainConfig(), f.name) for f in fields(TrainConfig) if f.name in TRAIN_WRITTEN}
    verdict = {k: v["default"] for k, v in schema["properties"]["verdict"]["properties"].items()}
    lines = [
        f"# A study of the data sets in {sheet}, written by `longseq new-study`: the default study's",
        "# arms and settings (config/config.yaml), each to edit. Run it with",
        '#   make study ARGS="--configfile <this file>"',
        "# A --configfile is the whole study: config/config.yaml is not read with it.",
        "",
        "seeds: [0, 1, 2, 3, 4]   # 5 runs per arm: with 3 the verdict can hardly separate arms",
        f"dataset_sheet: {sheet}",
        "",
        "# Model settings every arm starts from (an arm's own model: overrides them).",
        *_block("model", model, notes["model"]),
        "",
        "# The budget (max_updates, eval_every, min_updates, patience) is the same for every arm of",
        "# a data set; set it here or per data set below, never in an arm.",
        *_block("train", train, notes["train"]),
        "",
        *_block("verdict", verdict, notes["verdict"]),
        "",
    ]
    sized = []
    for name, n in counts.items():
        if n is None:
            lines.append(f"# {name}: its file is not here yet (it is fetched on the first run), so its train")
            lines.append(
                f"# records were not counted; with fewer than {FEW_RECORDS}, give it the settings below."
            )
        elif n < FEW_RECORDS:
            sized.append((name, n))
    if sized:
        lines.append("datasets:")
        for name, n in sized:
            lines.append(
                f"  {name}:   # {n} train records (< {FEW_RECORDS}): small batches, a larger budget, as the"
            )
            lines.append("    # default study gives ACSF1's 80; at batch 32 an epoch would be a few updates")
            lines += ["    train:", *(f"      {k}: {v}" for k, v in FEW_RECORDS_TRAIN.items())]
    lines += ["", *_arms_text(template.read_text()), ""]
    return "\n".join(lines)
