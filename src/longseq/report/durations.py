"""How long a study takes: its jobs' measured times (Snakemake's benchmark files), the stamp
that carries them in the study file, and the expected time of a run from that stamp.

Job time (every job's wall seconds added up) is what a study costs whatever runs beside it;
divided by the cores, it is about the wall time on one machine. The stamp is written from a
study's own results (`longseq jobs results --study FILE --stamp`), never typed.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

# benchmark folder -> the rule whose jobs wrote it (the stamp counts rules, as Snakemake does)
STEP_RULE = {
    "train": "trained_model",
    "evaluate": "test_metrics",
    "pretrain": "pretrained_encoder",
    "reference": "reference_metrics",
    "tuning": "trial_history",
    "ingest": "ingested_dataset",
    "reduce": "reduced_dataset",
    "scaling": "chosen_scaling",
}
BEGIN = "# -- measured job times"
END = "# --"


def study_config(studies: list[str | Path]) -> tuple[dict, list[str]]:
    """The study that Snakemake runs from these files (later ones extend earlier ones, as with
    --configfile A B) and the arms whose jobs count: an add-on file's own (more_arms.yaml on
    top of config.yaml), else every arm."""
    from snakemake.utils import update_config

    config: dict = {}
    for study in studies:
        update_config(config, yaml.safe_load(Path(study).read_text()))
    last = yaml.safe_load(Path(studies[-1]).read_text())
    return config, list((last if len(studies) > 1 and "arms" in last else config)["arms"])


def _study_runs(studies: list[str | Path]) -> tuple[set, set, dict]:
    """The data sets, the (data set, run, seed-or-trial) triples and the planned jobs per step
    of a study."""
    from ..references import ARM as REFERENCE

    config, arms = study_config(studies)
    sheet = pd.read_csv(config["dataset_sheet"], sep="\t", comment="#", dtype=str)
    datasets = set(sheet["name"])
    seeds = [f"seed{s}" for s in config["seeds"]]
    reference = [REFERENCE] if len(studies) == 1 or "reference" in arms else []
    pretrains = {config["arms"][a]["pretrain"] for a in arms if "pretrain" in config["arms"][a]}
    trials = [f"trial{n}" for n in range(config.get("tune", {}).get("trials", 0))]
    # a pretraining with a seed of its own is one job for all seeds
    shared = {p: f"seed{config['pretrain'][p]['seed']}" for p in pretrains if "seed" in config["pretrain"][p]}
    kept = {(d, run, s) for d in datasets for run in [*arms, *reference, *pretrains] for s in seeds}
    kept |= {(d, p, s) for d in datasets for p, s in shared.items()}
    kept |= {(d, arm, t) for d in datasets for arm in arms for t in trials}
    n = len(datasets)
    pretrain_jobs = sum(1 if p in shared else len(seeds) for p in pretrains)
    planned = {"train": n * len(arms) * len(seeds), "evaluate": n * len(arms) * len(seeds),
               "reference": n * len(reference) * len(seeds), "pretrain": n * pretrain_jobs,
               "tuning": n * len(arms) * len(trials)}  # fmt: skip
    return datasets, kept, {step: jobs for step, jobs in planned.items() if jobs}


def _summary_runs(results: Path) -> tuple[set, set]:
    runs = pd.read_csv(results / "summary.csv")
    kept = set(zip(runs["dataset"], runs["arm"], "seed" + runs["seed"].astype(str)))
    searched = results / "tuning" / "chosen.csv"
    if searched.exists():
        for r in pd.read_csv(searched).itertuples():
            kept |= {(r.dataset, r.arm, f"trial{n}") for n in range(r.trials)}
    return set(runs["dataset"]), kept, {}


def benchmark_rows(results: str | Path, studies: list[str | Path] | None = None) -> pd.DataFrame:
    """One row per job of the study that has finished: its step, wall seconds and end time.
    The study's own jobs are those of `study` (a study file) or, without one, of the finished
    study's summary.csv; benchmark files of runs it no longer has are left out. Its `attrs`
    hold the jobs per step the study plans (from study files only)."""
    results = Path(results)
    datasets, kept, planned = _study_runs(studies) if studies else _summary_runs(results)
    root = results / "benchmarks"
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        parts = path.relative_to(root).with_suffix("").parts
        if len(parts) > 1 and parts[1] not in datasets:
            continue
        if (
            parts[0] in ("train", "evaluate", "tuning", "pretrain", "reference")
            and tuple(parts[1:]) not in kept
        ):
            continue
        seconds = float(pd.read_csv(path, sep="\t")["s"].iloc[-1])
        rows.append({"step": parts[0], "seconds": seconds, "end": path.stat().st_mtime})
    if not rows:
        from ..core.data import DataError

        raise DataError(f"{root}: no benchmark files of this study's jobs yet")
    table = pd.DataFrame(rows)
    if studies and len(studies) > 1:  # ingest, reduce and aggregation jobs are the base study's
        table = table[table["step"].isin(set(planned))]
    table.attrs["planned"] = planned
    return table


def job_times(rows: pd.DataFrame) -> pd.DataFrame:
    """Per step: how many jobs, their wall seconds added up and the longest. The sum over steps
    is the study's cost in core time whatever ran beside it; the longest job bounds how fast a
    cluster with a core per job could finish a step."""
    table = rows.groupby("step")["seconds"].agg(jobs="count", seconds="sum", longest="max")
    return table.sort_values("seconds", ascending=False).reset_index()


def busy_wall_seconds(rows: pd.DataFrame) -> float:
    """Wall time during which some job ran: the union of the jobs' [end - seconds, end] spans,
    so pauses between invocations of a study that ran in parts do not count."""
    spans = sorted(zip(rows["end"] - rows["seconds"], rows["end"]))
    total, start, stop = 0.0, *spans[0]
    for a, b in spans[1:]:
        if a > stop:
            total, start = total + stop - start, a
        stop = max(stop, b)
    return total + stop - start


def stamp_text(
    table: pd.DataFrame, wall: float, machine: str, cores: int, planned: dict | None = None
) -> str:
    """The stamp: jobs, job time, wall time and machine; where the results hold only some of the
    jobs the study plans, which steps are short and the estimate for the whole from the means."""
    per_rule = ", ".join(
        f"{STEP_RULE.get(r.step, r.step)} {r.jobs}x{r.seconds / r.jobs:.1f}s" for r in table.itertuples()
    )
    lines = [
        f"{BEGIN} (written by `longseq jobs results --study <this file> --stamp`, not typed) --",
        f"# {table['jobs'].sum()} jobs, {table['seconds'].sum():,.0f} s of job time; "
        f"{wall / 60:.0f} min of wall time on {cores} cores",
        f"# ({machine}, {date.today().isoformat()}).",
    ]
    done = table.set_index("step")["jobs"].to_dict()
    short = {step: (done.get(step, 0), n) for step, n in (planned or {}).items() if done.get(step, 0) < n}
    if short:
        means = table.set_index("step").eval("seconds / jobs").to_dict()
        # a search trial is a training at drawn settings: with no final training measured yet,
        # the trials' mean stands in for it (and says so)
        stand_in = "train" in short and "train" not in means and "tuning" in means
        if stand_in:
            means["train"] = means["tuning"]
        estimate = table["seconds"].sum() + sum(
            (n - k) * means.get(step, 0) for step, (k, n) in short.items()
        )
        missing = ", ".join(f"{step} {k} of {n}" for step, (k, n) in short.items())
        unmeasured = [
            step for step, (k, _) in short.items() if step not in means
        ]  # no mean to estimate them by
        lines.append(f"# Not all measured ({missing}): an ESTIMATE for the whole study, by the measured")
        lines.append(
            f"# mean of each step, is {estimate:,.0f} s of job time, {estimate / cores / 60:.0f} min on {cores} cores"
            + (" (train by the trials' mean)" if stand_in else "")
            + (f", WITHOUT {', '.join(unmeasured)} (no job of it measured)." if unmeasured else ".")
        )
    return "\n".join([*lines, f"# per rule, jobs x mean seconds: {per_rule}", END])


def stamp(study: str | Path, text: str) -> None:
    """Put the stamp at the top of the study file, replacing an earlier one."""
    from ..core.data import atomic_write_bytes

    study = Path(study)
    lines = study.read_text().splitlines()
    if any(line.startswith(BEGIN) for line in lines):
        start = next(i for i, line in enumerate(lines) if line.startswith(BEGIN))
        end = next(i for i in range(start + 1, len(lines)) if lines[i] == END)
        lines[start : end + 1] = text.splitlines()
    else:
        lines = [*text.splitlines(), *lines]
    atomic_write_bytes(study, ("\n".join(lines) + "\n").encode())


def read_stamp(study: str | Path) -> dict[str, tuple[int, float]]:
    """rule -> (jobs, mean seconds) from a study file's stamp; empty without one."""
    text = Path(study).read_text()
    line = re.search(r"^# per rule, jobs x mean seconds: (.*)$", text, re.MULTILINE)
    if not line or BEGIN not in text:
        return {}
    return {m[0]: (int(m[1]), float(m[2])) for m in re.findall(r"(\w+) (\d+)x([\d.]+)s", line.group(1))}


def durations_table(studies: list[str | Path]) -> str:
    """A Markdown table of the study files' stamps, for the docs (generated, not typed)."""
    rows = ["| study | jobs | job time | wall time | measured on | note |", "|---|---|---|---|---|---|"]
    for study in studies:
        text = Path(study).read_text()
        head = re.search(
            r"^# (\d+) jobs, ([\d,]+) s of job time; (\d+) min of wall time on (\d+) cores\n# \((.*)\)\.$",
            text,
            re.MULTILINE,
        )
        estimate = re.search(
            r"^# Not all measured \((.*)\): an ESTIMATE.*\n# mean of each step, is ([\d,]+) s",
            text,
            re.MULTILINE,
        )
        unmeasured = re.search(r", WITHOUT ([^(]*) \(no job of it measured\)", text)
        if not head:
            rows.append(f"| `{study}` | | | | | not measured |")
            continue
        note = ""
        if estimate:
            without = f" without {unmeasured.group(1)} (no job of it measured)" if unmeasured else ""
            stand_in = " (trainings by the trials' mean)" if "(train by the trials' mean)" in text else ""
            whole = f"the whole estimated at {estimate.group(2)} s{stand_in}{without}"
            note = f"partly measured ({estimate.group(1)}); {whole}"
        rows.append(
            f"| `{study}` | {head.group(1)} | {head.group(2)} s | {head.group(3)} min on {head.group(4)} cores "
            f"| {head.group(5)} | {note} |"
        )
    return "\n".join(rows)


def expected_line(counts: dict[str, int], studies: list[str], cores: int | None) -> str:
    """One line for the start of a run: its jobs and, from the study files' stamps, the job
    time and the wall time it should take on these cores."""
    jobs = counts.get("total", sum(counts.values()))
    means = {}
    for study in studies:
        means |= read_stamp(study)
    if not means:
        return f"longseq: {jobs} jobs to run; no measured job times for {', '.join(studies)} (longseq jobs --stamp)"
    todo = {rule: n for rule, n in counts.items() if rule != "total"}
    known = sum(n * means[rule][1] for rule, n in todo.items() if rule in means)
    unknown = sum(n for rule, n in todo.items() if rule not in means and rule != "all")
    line = f"longseq: {jobs} jobs to run, about {known:,.0f} s of job time by the measured means of {', '.join(studies)}"
    if cores:
        line += f": about {known / cores / 60:.0f} min on {cores} cores"
    if unknown:
        line += f" ({unknown} jobs of rules never measured not counted)"
    return line


def this_machine() -> str:
    from ..core.kernels import cpu_flags, cpu_model

    return f"{os.cpu_count()}-core {cpu_model()}, {'/'.join(cpu_flags()[-2:]) or 'x86-64'}"
