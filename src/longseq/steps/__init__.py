"""The workflow's steps, one row each: the rule that runs it (named after what it produces), the
`longseq` command it calls, the package modules whose code is its digest, and the plug-ins its
job names. The workflow reads its code digests from here (workflow/rules/common.smk), so that
no rule file names a package file; tests/test_steps.py holds the rule files to it, and
docs/step_table.py prints it with each rule's log and outputs for docs/method.md. No torch
here: the workflow's parse imports it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.fingerprint import PACKAGE, step_digest


@dataclass(frozen=True)
class Step:
    rules: tuple[str, ...]  # the rules that run it: a search's trials reduce and train too
    command: str  # `longseq <command>`
    modules: tuple[str, ...]  # what it runs, the modules they import followed (fingerprint)
    plugins: tuple[str, ...] = ()  # the plug-in kinds its job names: reader, reducer, model, reference
    does: str = ""


STEPS = {
    "fetch": Step(("download_archive",), "fetch", (), (), "download a pinned file (its checksum reruns it)"),
    "ingest": Step(
        ("ingested_dataset",), "ingest", ("study/sheet.py", "sources/__init__.py"), ("reader",), "read a row"
    ),
    "choose-scaling": Step(
        ("chosen_scaling",),
        "choose-scaling",
        ("steps/choose_scaling.py", "models/conv.py"),
        (),
        "choose a signal set's scaling on valid",
    ),
    "reduce": Step(
        ("reduced_dataset", "trial_reduction"),
        "reduce",
        ("reducers/__init__.py",),
        ("reducer",),
        "reduce a data set for an arm",
    ),
    "pretrain": Step(
        ("pretrained_encoder",),
        "pretrain",
        ("steps/pretrain.py",),
        ("model",),  # the pretraining's encoder: lstm or conv_lstm
        "self-pretrain an encoder",
    ),
    "train": Step(
        ("trained_model", "trial_history"), "train", ("steps/train.py",), ("reducer", "model"), "train a run"
    ),
    "evaluate": Step(
        ("test_metrics",),
        "evaluate",
        ("steps/evaluate.py", "steps/predict.py"),
        ("reducer", "model"),
        "test a trained run",
    ),
    "reference": Step(
        ("reference_metrics",),
        "reference",
        ("references/__init__.py",),
        ("reference",),
        "the reference's run",
    ),
    "predict": Step(
        ("predictions",),
        "predict",
        ("steps/predict.py", "study/sheet.py", "sources/__init__.py"),
        ("reducer", "model", "reference"),  # a trained arm's, or the reference's
        "label new records",
    ),
    "choose": Step(("chosen_trial",), "choose", ("steps/choose.py",), (), "a search's chosen trial"),
    "describe": Step(("dataset_table",), "describe", ("report/describe.py",), (), "the data set table"),
    "aggregate": Step(("summary",), "aggregate", ("report/aggregate.py",), (), "summary and overview tables"),
    "figures": Step(("report_figures",), "figures", ("report/figures.py",), (), "the report's figures"),
    "confusion": Step(
        ("confusion_matrices",), "confusion", ("report/confusion.py",), (), "a confusion figure"
    ),
    "tuning": Step(("tuning_overview",), "tuning", ("report/tuning.py",), (), "the search's figure"),
    "verdict": Step(("verdict",), "verdict", ("stats/verdict.py",), (), "the answer"),
}


def plugin_module(kind: str, name: str) -> str:
    """The module of a plug-in its job names (a reader, a reduction, a model type, a reference)."""
    folder = {"reader": "sources", "reducer": "reducers", "model": "models", "reference": "references"}[kind]
    return f"{folder}/{name}.py"


def code(step: str, package: Path = PACKAGE, **plugins: str) -> str:
    """A step's code digest: its modules and the plug-ins its job names (`reader=`, `reducer=`,
    `model=`, `reference=`), with everything they import. A step without modules (a download)
    has none."""
    if not STEPS[step].modules:
        return ""
    row = STEPS[step]
    if not set(plugins) <= set(row.plugins):
        raise ValueError(f"step {step!r} takes the plug-ins {row.plugins}, not {tuple(plugins)}")
    return step_digest(package, *row.modules, *(plugin_module(k, v) for k, v in plugins.items()))
