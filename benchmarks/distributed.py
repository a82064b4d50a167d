"""Data-parallel training on this machine's CPU: 2 gloo processes vs 1 process at the same
global batch, and 1 process with train.accumulate=2, in steps per second.

Each configuration is one ``ganarium train`` run (dcgan on digits, no writing besides the run
folder, one intra-op thread per process), timed from the Trainer's own ``sec_per_step`` over
the logged windows after the first (start-up and the first steps excluded). On 2 cores 2
processes can at best double the throughput; gradient all-reduces and the per-step stop
agreement cost the rest.

    python benchmarks/distributed.py [--steps 60 --batch 64 --size 32 --width 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(nproc: int, args: argparse.Namespace, extra: list[str]) -> float:
    """Median seconds per step of one run on ``nproc`` processes."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        train = [
            "train",
            args.recipe,
            "--data",
            "digits",
            "--run-dir",
            str(run_dir),
            f"data.size={args.size}",
            f"model.g_width={args.width}",
            f"model.d_width={args.width}",
            f"train.batch_size={args.batch}",
            f"train.steps={args.steps}",
            "train.log_every=10",
            "train.sample_every=0",
            "train.checkpoint_every=0",
            "train.tensorboard=false",
            "train.progress=false",
            "train.device=cpu",
            "train.threads=1",
            *extra,
        ]
        if nproc == 1:
            cmd = [sys.executable, "-m", "ganarium", *train]
        else:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
            cmd += [f"--nproc_per_node={nproc}", "-m", "ganarium", *train]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(p.stderr[-2000:])
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        times = [json.loads(line)["sec_per_step"] for line in lines][1:]
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="dcgan")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args()
    rows = [
        ("1 process", 1, []),
        ("1 process, accumulate=2", 1, ["train.accumulate=2"]),
        ("2 processes (gloo)", 2, []),
    ]
    results = [(name, run(n, args, extra)) for name, n, extra in rows]
    base = results[0][1]
    print(
        f"{args.recipe}, {args.size}px, width {args.width}, global batch {args.batch}, "
        f"{args.steps} steps; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print("| configuration | sec/step | steps/s | vs 1 process |")
    print("|---|---:|---:|---:|")
    for name, sec in results:
        print(f"| {name} | {sec:.4f} | {1 / sec:.2f} | {base / sec:.2f}x |")


if __name__ == "__main__":
    main()
