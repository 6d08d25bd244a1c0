"""Training speed and memory, measured side by side in one run on the same shapes.

    make bench            (or: .venv/bin/python benchmarks/training_speed.py [--device cuda])

1. Throughput of the project's training step (bucketed padded batches, LSTMClassifier, the
   train loop's batch function) against a bare nn.Embedding + nn.LSTM + nn.Linear loop on the
   very same padded batches. Goal: >= 0.95x.
2. For T = 4,096 and 16,384 steps (the long study's byte-level documents and four times
   that) and k2 = 200: step time and peak memory of truncated BPTT (both forms) as ratios of
   full BPTT. Goals: memory <= 0.2x for both; time <= 0.35x for last-k (TBPTT still
   backpropagates through every step once, in pieces, so it has no time goal). Each variant
   runs in its own process so that peak memory (resident set on CPU, allocated on CUDA) is its own.
3. At the same T: one S4D layer (the ssm_baseline's layer, bidirectional, state 64) against
   one LSTM layer of equal width, time per training step (full backward pass) and peak memory;
   no goal: it says what the state-space baseline costs per layer beside the LSTM.

Every ratio is the median of --pairs interleaved pairs (A, B, A, B, ...), given with its
min-max spread: one pair alone moved by a factor of 2.7 between two runs minutes apart on an
idle 2-core machine (last-k time 0.632, then 0.237). A goal holds when the median meets it; a
ratio whose spread crosses its goal is flagged.
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
from torch import nn

from longseq.core.data import Split
from longseq.core.kernels import cpu_model
from longseq.core.runtime import flush_denormals
from longseq.core.settings import ModelConfig, TrainConfig
from longseq.models.lstm import LSTMClassifier
from longseq.steps.batches import length_batches
from longseq.steps.train import host_batch, train_batch


def make_split(n, min_len, max_len, vocab, seed=0) -> Split:
    rng = np.random.default_rng(seed)
    seqs = [
        rng.integers(2, vocab, size=rng.integers(min_len, max_len + 1)).astype(np.int32) for _ in range(n)
    ]
    return Split.from_sequences(seqs, rng.integers(0, 2, size=n))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def optimiser_step(model, optimiser):
    """What the trainer does after each backward pass: clip, step, clear."""

    def step():
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)

    return step


def throughput(args, device) -> dict:
    """Steps per second of both loops over the same batches; each loop builds its own padded
    batches (the bare one with pad_sequence, as a plain PyTorch loop would). Rounds alternate
    and the fastest round of each counts, so that a busy moment hurts neither side."""
    split = make_split(args.batches * args.batch, 300, 400, 5000)
    batches = length_batches(split.lengths, args.batch, np.random.default_rng(0))
    steps = int(sum(split.lengths[b].max() * len(b) for b in batches))

    torch.manual_seed(0)
    ours = LSTMClassifier(
        "tokens", 5000, 2, ModelConfig.from_dict(dict(hidden=args.hidden, embedding=args.embedding))
    ).to(device)
    ours_step_fn = optimiser_step(ours, torch.optim.Adam(ours.parameters(), 1e-3))
    cfg = TrainConfig()

    torch.manual_seed(0)
    embed = nn.Embedding(5000, args.embedding, padding_idx=0).to(device)
    lstm = nn.LSTM(args.embedding, args.hidden, batch_first=True).to(device)
    head = nn.Linear(args.hidden, 2).to(device)
    params = [*embed.parameters(), *lstm.parameters(), *head.parameters()]
    bare_opt = torch.optim.Adam(params, 1e-3)
    tensors = [torch.from_numpy(np.asarray(s, dtype=np.int64)) for s in split]
    labels = torch.from_numpy(split.labels)

    def bare_step(rows):
        x = nn.utils.rnn.pad_sequence([tensors[i] for i in rows], batch_first=True).to(device)
        lengths = torch.tensor([len(tensors[i]) for i in rows], device=device)
        y = labels[rows].to(device)
        bare_opt.zero_grad()
        out, _ = lstm(embed(x))
        loss = nn.functional.cross_entropy(head(out[torch.arange(len(y), device=device), lengths - 1]), y)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        bare_opt.step()

    pin = device.type == "cuda"

    def ours_step(rows):
        train_batch(ours, ours_step_fn, host_batch(split, rows, pin), cfg, device)

    def timed(step):
        sync(device)
        start = time.perf_counter()
        for rows in batches:
            step(rows)
        sync(device)
        return time.perf_counter() - start

    ours_step(batches[0])
    bare_step(batches[0])
    ours_s, bare_s = [], []
    for _ in range(args.pairs):  # A, B, A, B, ...: each pair shares its moment of the machine
        ours_s.append(timed(ours_step))
        bare_s.append(timed(bare_step))
    return {
        "steps": steps,
        "ours_steps_per_s": steps / float(np.median(ours_s)),
        "bare_steps_per_s": steps / float(np.median(bare_s)),
        "ratio": spread([b / o for o, b in zip(ours_s, bare_s)]),
    }


def spread(ratios: list[float]) -> dict:
    return {"median": float(np.median(ratios)), "min": min(ratios), "max": max(ratios), "pairs": ratios}


def judged(ratio: dict, goal: float | None = None, at_least: bool = True) -> str:
    """The ratio's median with its spread, and whether the goal holds (by the median)."""
    shown = (
        f"{ratio['median']:.3f} (min {ratio['min']:.3f}, max {ratio['max']:.3f}; {len(ratio['pairs'])} pairs)"
    )
    if goal is None:
        return shown + "  (no goal)"
    holds = ratio["median"] >= goal if at_least else ratio["median"] <= goal
    crosses = ratio["min"] < goal < ratio["max"]
    return (
        shown
        + f"  goal {'>=' if at_least else '<='} {goal}: {'holds' if holds else 'MISSED'}"
        + ("  [spread crosses the goal]" if crosses else "")
    )


def reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS counter (Linux: clear_refs 5) and return the current RSS."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status_bytes("VmRSS")


def peak_rss() -> int:
    return _status_bytes("VmHWM")


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def long_model(kind: str, args, device) -> nn.Module:
    """An LSTM classifier, or an S4D classifier of one layer of the same width."""
    options = dict(hidden=args.hidden, embedding=args.embedding)
    if kind == "s4d":
        from longseq.models.s4d import S4DClassifier

        config = ModelConfig.from_dict(dict(options, type="s4d", layers=1, state=64, bidirectional=True))
        return S4DClassifier("tokens", 5000, 2, config).to(device)
    return LSTMClassifier("tokens", 5000, 2, ModelConfig.from_dict(options)).to(device)


def one_mode(mode: str, args, device) -> dict:
    """Time and peak memory of training steps in one mode; run in a fresh process."""
    flush_denormals()
    torch.manual_seed(0)
    steps = int(args.long_steps)
    split = make_split(args.long_batch, steps, steps, 5000)
    rows = np.arange(args.long_batch)
    model = long_model(args.model, args, device)
    opt = optimiser_step(model, torch.optim.Adam(model.parameters(), 1e-3))
    cfg = TrainConfig(mode=mode, k1=args.k2, k2=args.k2, k=args.k2)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    else:  # reset the resident set's high-water mark, so that only training counts
        base = reset_peak_rss()
    batch = host_batch(split, rows, device.type == "cuda")
    train_batch(model, opt, batch, cfg, device)  # warm-up (its memory counts, its time does not)
    sync(device)
    start = time.perf_counter()
    for _ in range(args.repeats):
        train_batch(model, opt, batch, cfg, device)
    sync(device)
    seconds = (time.perf_counter() - start) / args.repeats
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) - base
    else:
        peak = peak_rss() - base
    return {"mode": mode, "model": args.model, "seconds_per_step": seconds, "peak_bytes": peak, "base": base}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--long-steps", default="4096,16384", help="comma-separated T of parts 2 and 3")
    parser.add_argument("--model", default="lstm", help=argparse.SUPPRESS)
    parser.add_argument("--long-batch", type=int, default=16)
    parser.add_argument("--k2", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only-mode", help=argparse.SUPPRESS)
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs per ratio (at least 5)")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    flush_denormals()

    if args.only_mode:  # child process of part 2
        print(json.dumps(one_mode(args.only_mode, args, device)))
        return

    print(
        f"machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, "
        f"torch {torch.__version__}, "
        f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}, "
        f"threads {args.threads}"
    )
    if args.pairs < 5:
        parser.error("--pairs: at least 5, so that a median and its spread mean something")
    t = throughput(args, device)
    print(
        f"\n1. training throughput, B={args.batch}, T=300-400, E={args.embedding}, H={args.hidden}, "
        f"{args.batches} batches"
    )
    print(f"   longseq step        {t['ours_steps_per_s']:>12,.0f} steps/s (median)")
    print(f"   bare nn.LSTM loop   {t['bare_steps_per_s']:>12,.0f} steps/s (median)")
    print(f"   ratio longseq/bare steps/s  {judged(t['ratio'], 0.95, at_least=True)}")

    report = {"throughput": t}
    for steps in [int(v) for v in str(args.long_steps).split(",")]:
        report[f"T={steps}"] = long_rows(argparse.Namespace(**dict(vars(args), long_steps=steps)), device)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def long_rows(args, device) -> dict:
    """Parts 2 and 3 at one T, printed as they are measured."""
    modes = mode_ratios(args, device)
    what = "peak resident" if device.type == "cpu" else "peak allocated"
    print(
        f"\n2. T={args.long_steps}, B={args.long_batch}, k1=k2=k={args.k2}: time per training step and {what}"
    )
    print("   memory added by training, as ratios of full BPTT in the same round")
    for mode, label in (("tbptt", f"TBPTT({args.k2},{args.k2})"), ("last_k", f"last {args.k2} steps")):
        time_ratio = modes[mode]["time"]
        timed = judged(time_ratio, 0.35, at_least=False) if mode == "last_k" else judged(time_ratio)
        print(f"   {label:<20} time   x{timed}")
        print(f"   {'':<20} memory x{judged(modes[mode]['memory'], 0.2, at_least=False)}")
    print(f"   full BPTT: {medians(modes['bptt']['runs'])}")
    layers = layer_ratios(args, device)
    print(
        f"\n3. T={args.long_steps}, B={args.long_batch}, width {args.hidden}: one S4D layer against one LSTM layer"
    )
    print(f"   LSTM layer: {medians(layers['lstm']['runs'])}")
    print(f"   S4D layer:  {medians(layers['s4d']['runs'])}")
    print(f"   S4D/LSTM    time   x{judged(layers['s4d']['time'])}")
    print(f"   {'':<11} memory x{judged(layers['s4d']['memory'])}")
    return {"modes": modes, "layers": layers}


def medians(runs: list[dict]) -> str:
    seconds = np.median([r["seconds_per_step"] for r in runs])
    return f"{seconds:.3f} s per step, {np.median([r['peak_bytes'] for r in runs]) / 2**20:.1f} MiB (medians)"


def layer_ratios(args, device) -> dict:
    """Rounds of (LSTM, S4D), full BPTT, each in a fresh process: one ratio pair per round."""
    runs = {kind: [] for kind in ("lstm", "s4d")}
    for _ in range(args.pairs):
        for kind, measured in runs.items():
            measured.append(one_mode_process("bptt", args, device, kind))
    return {"lstm": {"runs": runs["lstm"]}, "s4d": ratios_to(runs["lstm"], runs["s4d"])}


def ratios_to(base: list[dict], other: list[dict]) -> dict:
    pairs = list(zip(base, other))
    return {
        "runs": other,
        "time": spread([m["seconds_per_step"] / f["seconds_per_step"] for f, m in pairs]),
        "memory": spread([m["peak_bytes"] / f["peak_bytes"] for f, m in pairs]),
    }


def mode_ratios(args, device) -> dict:
    """Rounds of (full BPTT, TBPTT, last-k), each in a fresh process: every round gives one
    time ratio and one memory ratio per truncated mode."""
    runs = {mode: [] for mode in ("bptt", "tbptt", "last_k")}
    for _ in range(args.pairs):
        for mode, measured in runs.items():
            measured.append(one_mode_process(mode, args, device))
    return {"bptt": {"runs": runs["bptt"]}} | {
        m: ratios_to(runs["bptt"], runs[m]) for m in ("tbptt", "last_k")
    }


def one_mode_process(mode: str, args, device, model: str = "lstm") -> dict:
    options = ("threads", "hidden", "embedding", "long_steps", "long_batch", "k2", "repeats")
    cmd = [sys.executable, __file__, "--only-mode", mode, "--model", model, "--device", str(device)]
    for name in options:
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
