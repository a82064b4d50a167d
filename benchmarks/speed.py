"""Each speed switch of the Trainer against fp32 eager, on this CPU, in one run: DCGAN at
32x32 on synthetic RGB data, one torch thread.

Every configuration's Trainer is built (and, for ``train.compile``, compiled and warmed up)
first; then the configurations are timed in alternating rounds of a few steps each, so a
load change on a shared machine hits them alike, and each gets its median seconds per step.
Ratios are fp32 eager's time over the configuration's (above 1: faster).

    python benchmarks/speed.py [--rounds 5 --steps 4 --batch 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_throughput import QUIET, synthetic  # noqa: E402

from ganarium.models import RECIPES  # noqa: E402
from ganarium.training.threads import other_busy_processes  # noqa: E402
from ganarium.training.trainer import TrainConfig, Trainer  # noqa: E402

CONFIGS = {
    "fp32 eager (torch's defaults)": {},
    "train.channels_last": {"channels_last": True},
    "train.amp=bf16": {"amp": "bf16"},
    "train.amp=bf16 + channels_last": {"amp": "bf16", "channels_last": True},
    "train.optimizer_impl=foreach": {"optimizer_impl": "foreach"},
    "train.optimizer_impl=fused": {"optimizer_impl": "fused"},
    "train.compile (inductor)": {"compile": True},
}


def trainer_for(options: dict, args: argparse.Namespace) -> Trainer:
    torch.manual_seed(0)
    data = synthetic(args.size, 0, 8 * args.batch)
    cfg = TrainConfig(steps=10**9, batch_size=args.batch, device="cpu", **QUIET, **options)
    return Trainer(RECIPES.get("dcgan")(data.info), data, cfg)


def steps(trainer: Trainer, n: int) -> float:
    """Seconds per step over ``n`` steps."""
    t0 = time.perf_counter()
    for _ in range(n):
        trainer.train_step()
        trainer.step += 1
    return (time.perf_counter() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    busy = other_busy_processes()
    trainers, setup = {}, {}
    for name, options in CONFIGS.items():
        t0 = time.perf_counter()
        trainers[name] = trainer_for(options, args)
        steps(trainers[name], 2)  # warm-up (compiles)
        setup[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.rounds):
        for name, trainer in trainers.items():
            times[name].append(steps(trainer, args.steps))
    base = statistics.median(times["fp32 eager (torch's defaults)"])
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared (load of other processes "
        f"at start: {busy if busy is None else round(busy, 1)}), 1 torch thread, torch "
        f"{torch.__version__}, Python {platform.python_version()}.  "
    )
    print(
        f"Command: `python benchmarks/speed.py --rounds {args.rounds} --steps {args.steps} "
        f"--batch {args.batch} --size {args.size}` (dcgan, {args.size}x{args.size} RGB synthetic "
        f"data, batch {args.batch}; {args.rounds} alternating rounds of {args.steps} steps; "
        "medians).\n"
    )
    print("| switch | ms / step | vs fp32 eager | build + 2 warm-up steps |")
    print("|---|---:|---:|---:|")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {1000 * t:.1f} | {base / t:.2f}x | {setup[name]:.1f} s |")


if __name__ == "__main__":
    main()
