"""The prepared GPU check (run it through benchmarks/gpu_check.sh): what a GPU node gives
longseq, in one short run, written to a folder.

1. The device, torch/CUDA/cuDNN versions, and whether the fused LSTM kernel ran (cuDNN on
   CUDA, oneDNN on CPU), read from the profiler's op names.
2. Training throughput of the project's own training step (host batch built, copied, one
   optimiser update) for B = 64, T = 1,000, E = 64, H = 256: on the CPU in float32, and on the
   GPU in float32 and bfloat16 autocast; the GPU/CPU ratio.
3. Peak memory of one training update at T = 20,000 (B = 16): full BPTT, TBPTT (k1 = k2 = 200)
   and last-k (k = 200), allocated and reserved on CUDA (resident set on CPU).
4. The long study's models on its shape (B = 32, T = 4,096 tokens of 258, width 64): seconds
   per training update of the plain LSTM (`full`), the learned summarizer (`learned_summary`)
   and the S4D stack (`ssm_baseline`), on the device in float32: what a run of 3,000 updates
   costs there (on 2 CPU cores the S4D stack takes about 8 s per update).
5. A tiny study end to end through Snakemake on the device, with every job's time.

`--device cpu` runs every part on the CPU (the test suite does, with `--quick` sizes), so
that the script works the first time on a GPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from training_speed import make_split, optimiser_step, sync  # this folder's: run as a script

from longseq.core.data import Split
from longseq.core.runtime import flush_denormals, memory_record
from longseq.core.settings import ModelConfig, TrainConfig
from longseq.models.lstm import LSTMClassifier
from longseq.steps.train import host_batch, train_batch

REPO = Path(__file__).resolve().parent.parent


def token_split(n: int, steps: int, seed: int = 0) -> Split:
    return make_split(n, steps, steps, 5000, seed)


def model_and_step(device, hidden: int, embedding: int, steps: int):
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict(dict(hidden=hidden, embedding=embedding))
    model = LSTMClassifier("tokens", 5000, 2, cfg, steps=steps).to(device)
    return model, optimiser_step(model, torch.optim.Adam(model.parameters(), 1e-3))


def device_facts(device) -> dict:
    facts = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpu_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts |= {
            "gpu": props.name,
            "gpu_memory_gb": round(props.total_memory / 2**30, 1),
            "capability": f"{props.major}.{props.minor}",
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "bf16_supported": torch.cuda.is_bf16_supported(),
        }
    return facts


def fused_kernel(device, precision: str) -> dict:
    """Profile one training update and name the LSTM ops that ran: `_cudnn_rnn` is cuDNN's
    fused kernel, `mkldnn_rnn_layer` oneDNN's; a plain `lstm_cell` loop would mean neither."""
    from torch.profiler import ProfilerActivity, profile

    split = token_split(8, 64)
    model, step = model_and_step(device, 32, 16, 64)
    cfg = TrainConfig(amp=precision == "bf16")
    batch = host_batch(split, np.arange(8), device.type == "cuda")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        train_batch(model, step, batch, cfg, device)
        sync(device)
    names = sorted({e.key for e in prof.key_averages() if "rnn" in e.key.lower() or "lstm" in e.key.lower()})
    fused = (
        any("cudnn_rnn" in n for n in names)
        if device.type == "cuda"
        else any("mkldnn_rnn" in n for n in names)
    )
    return {"precision": precision, "fused": fused, "ops": names}


def throughput(
    device, precision: str, batch: int, steps: int, hidden: int, embedding: int, updates: int
) -> dict:
    """Input steps per second of whole training updates (the host batch built each time, as in
    training), after one warm-up update."""
    split = token_split(batch * updates, steps)
    model, step = model_and_step(device, hidden, embedding, steps)
    cfg = TrainConfig(amp=precision == "bf16")
    pin = device.type == "cuda"
    rows = [np.arange(i * batch, (i + 1) * batch) for i in range(updates)]
    train_batch(model, step, host_batch(split, rows[0], pin), cfg, device)
    sync(device)
    start = time.perf_counter()
    for r in rows:
        train_batch(model, step, host_batch(split, r, pin), cfg, device)
    sync(device)
    seconds = time.perf_counter() - start
    return {
        "device": str(device),
        "precision": precision,
        "batch": batch,
        "steps": steps,
        "hidden": hidden,
        "embedding": embedding,
        "updates": updates,
        "seconds_per_update": seconds / updates,
        "steps_per_s": batch * steps * updates / seconds,
    }


def memory(device, mode: str, batch: int, steps: int, hidden: int, k: int, precision: str) -> dict:
    """Peak memory of one training update in `mode` (run in its own process by the caller)."""
    split = token_split(batch, steps)
    model, step = model_and_step(device, hidden, 64, steps)
    cfg = TrainConfig(mode=mode, k1=k, k2=k, k=k, amp=precision == "bf16")
    batch_data = host_batch(split, np.arange(batch), device.type == "cuda")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    train_batch(model, step, batch_data, cfg, device)
    sync(device)
    return {
        "mode": mode,
        "steps": steps,
        "batch": batch,
        "k": k,
        "seconds": time.perf_counter() - start,
    } | memory_record(device)


LONG_MODELS = {  # the long study's arms (config/long.yaml) and their model settings
    "full": {"type": "lstm"},
    "learned_summary": {"type": "conv_lstm", "readout": "max"},
    "ssm_baseline": {"type": "s4d", "layers": 4, "state": 64},
}


def long_models(device, batch: int, steps: int, updates: int) -> list[dict]:
    """Seconds per training update (full backward pass) of each long-study model, after one
    warm-up update, and the peak memory of those updates."""
    from longseq.core.data import Dataset
    from longseq.models import build_model

    split = make_split(batch, steps, steps, 258)
    ds = Dataset("tokens", ["a", "b"], {"train": split}, {"vocab_size": 258})
    out = []
    for arm, options in LONG_MODELS.items():
        torch.manual_seed(0)
        model = build_model(ds, dict(options, hidden=64, embedding=64), steps=steps).to(device)
        if hasattr(model, "fit_normalisation"):
            model.fit_normalisation(split)
        step = optimiser_step(model, torch.optim.Adam(model.parameters(), 1e-3))
        batch_data = host_batch(split, np.arange(batch), device.type == "cuda")
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        train_batch(model, step, batch_data, TrainConfig(), device)
        sync(device)
        start = time.perf_counter()
        for _ in range(updates):
            train_batch(model, step, batch_data, TrainConfig(), device)
        sync(device)
        seconds = (time.perf_counter() - start) / updates
        out.append(
            {"arm": arm, "batch": batch, "steps": steps, "seconds_per_update": seconds}
            | memory_record(device)
        )
    return out


def tiny_study(folder: Path, device, cores: int) -> dict:
    """A two-arm study on generated tokens through the real workflow, on the device."""
    import yaml

    study = folder / "tiny_study"
    (study / "config").mkdir(parents=True, exist_ok=True)
    (study / "config" / "datasets.tsv").write_text(
        "name\tkind\treader\tpath\tfetch\tsha256\tsplit\toptions\n"
        "tiny\ttokens\tsynthetic\t\t\t\tstratified\t{n: 200, length: 400, evidence: start}\n"
    )
    config = {
        "seeds": [0],
        "model": {"hidden": 32, "embedding": 16},
        "train": {"max_updates": 40, "eval_every": 20, "min_updates": 20, "warmup": 5, "batch_size": 16},
        "dataset_sheet": "config/datasets.tsv",
        "arms": {
            "full": {"reduce": "full"},
            "last_100": {"reduce": "truncate", "keep": "last", "length": 100},
        },
    }
    (study / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, CUDA_VISIBLE_DEVICES=os.environ.get("CUDA_VISIBLE_DEVICES", "0"))
    if device.type == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # the jobs pick CUDA when they see it
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    profile = REPO / "profiles" / ("gpu" if device.type == "cuda" else "default")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(study),
         "--profile", str(profile), "--cores", str(cores)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    wall = time.perf_counter() - started
    (folder / "tiny_study.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"the tiny study failed; see {folder / 'tiny_study.log'}")
    jobs = []
    for tsv in sorted((study / "results" / "benchmarks").rglob("*.tsv")):
        lines = tsv.read_text().splitlines()
        row = dict(zip(lines[0].split("\t"), lines[1].split("\t")))
        jobs.append(
            {"job": str(tsv.relative_to(study / "results" / "benchmarks")), "seconds": float(row["s"])}
        )
    histories = [json.loads(p.read_text()) for p in (study / "results" / "models").rglob("history.json")]
    return {
        "wall_seconds": wall,
        "jobs": jobs,
        "train_devices": sorted({h["device"] for h in histories}),
        "precisions": sorted({h.get("precision", "?") for h in histories}),
    }


def child(args) -> None:
    """One memory measurement in a fresh process (so that each peak is its own)."""
    device = torch.device(args.device)
    print(
        json.dumps(
            memory(
                device,
                args.memory_mode,
                args.memory_batch,
                args.memory_steps,
                args.hidden,
                200,
                args.memory_precision,
            )
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="folder for gpu_check.json, gpu_check.txt and the tiny study")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--memory-mode", help=argparse.SUPPRESS)
    parser.add_argument("--memory-steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-precision", default="fp32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    flush_denormals()
    if args.memory_mode:
        child(args)
        return
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device visible to torch (torch.cuda.is_available() is False); "
                 "install a CUDA build of torch, or pass --device cpu")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    cpu = torch.device("cpu")
    quick = args.quick
    shape = (
        dict(batch=8, steps=100, hidden=32, embedding=16)
        if quick
        else dict(batch=64, steps=1000, hidden=args.hidden, embedding=64)
    )
    report: dict = {"facts": device_facts(device), "shape": shape}
    lines = [f"longseq GPU check, {time.strftime('%Y-%m-%d %H:%M %Z')}", json.dumps(report["facts"])]

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    say(lines[0] + "\n" + lines[1])
    precisions = ["fp32", "bf16"] if device.type == "cuda" else ["fp32"]
    report["fused"] = [fused_kernel(device, p) for p in precisions]
    for f in report["fused"]:
        say(
            f"fused LSTM kernel ({device}, {f['precision']}): {'yes' if f['fused'] else 'NO'}; "
            f"ops: {', '.join(f['ops'])}"
        )

    cpu_updates = 2 if quick else 3
    runs = [throughput(cpu, "fp32", updates=cpu_updates, **shape)]
    if device.type == "cuda":
        runs += [throughput(device, p, updates=20, **shape) for p in precisions]
    report["throughput"] = runs
    say(
        f"\ntraining throughput, B={shape['batch']} T={shape['steps']} "
        f"E={shape['embedding']} H={shape['hidden']}:"
    )
    for r in runs:
        say(
            f"  {r['device']:<6} {r['precision']:<5} {r['steps_per_s']:>14,.0f} input steps/s   "
            f"{r['seconds_per_update'] * 1000:8.1f} ms/update"
        )
    if device.type == "cuda":
        report["gpu_cpu_ratio"] = {
            r["precision"]: r["steps_per_s"] / runs[0]["steps_per_s"] for r in runs[1:]
        }
        say(
            "  GPU/CPU: "
            + ", ".join(f"{p} {v:.1f}x" for p, v in report["gpu_cpu_ratio"].items())
            + " (goal >= 20x)"
        )

    mem_steps, mem_batch = (400, 4) if quick else (20000, 16)
    report["memory"] = []
    say(f"\npeak memory of one update, T={mem_steps:,} B={mem_batch} H={shape['hidden']} (k = 200):")
    for mode in ("bptt", "tbptt", "last_k"):
        cmd = [sys.executable, __file__, str(args.out), "--device", str(device),
               "--hidden", str(shape["hidden"]), "--memory-mode", mode, "--memory-steps", str(mem_steps),
               "--memory-batch", str(mem_batch), "--memory-precision", precisions[-1]]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            say(
                f"  {mode:<7} failed: "
                + (done.stderr.strip().splitlines()[-1] if done.stderr.strip() else str(done.returncode))
            )
            continue
        m = json.loads(done.stdout.strip().splitlines()[-1])
        report["memory"].append(m)
        reserved = f", reserved {m['peak_reserved_mb']:,.0f} MB" if m["peak_reserved_mb"] is not None else ""
        say(
            f"  {mode:<7} {m['peak_memory_mb']:>10,.0f} MB "
            f"({'allocated' if device.type == 'cuda' else 'resident'}{reserved}), {m['seconds']:.2f} s"
        )

    long_batch, long_steps = (4, 256) if quick else (32, 4096)
    report["long_models"] = long_models(device, long_batch, long_steps, updates=2 if quick else 10)
    say(f"\nthe long study's models, B={long_batch} T={long_steps:,} width 64, {device} float32:")
    for m in report["long_models"]:
        say(
            f"  {m['arm']:<16} {m['seconds_per_update']:8.3f} s/update "
            f"({m['seconds_per_update'] * 3000 / 60:6.1f} min per 3,000), {m['peak_memory_mb']:,.0f} MB"
        )

    study = tiny_study(args.out, device, cores=os.cpu_count() or 2)
    report["tiny_study"] = study
    say(f"\ntiny study through Snakemake on {device}: {study['wall_seconds']:.1f} s wall; training on "
        f"{study['train_devices']} in {study['precisions']}")  # fmt: skip
    for job in study["jobs"]:
        say(f"  {job['seconds']:8.2f} s  {job['job']}")
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=1))
    (args.out / "gpu_check.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
