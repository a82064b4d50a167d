"""`ganarium sample --n 10000` through the real command line, on this CPU: start-up time and
images per second, for a folder of PNGs and for an .npz.

Each recipe gets a run folder made by a short training (3 steps, `ganarium train` in a
subprocess) under a temporary folder; then `ganarium sample RUN --n 1` (start-up: interpreter,
imports, loading the run, one image) and `ganarium sample RUN --n N` are timed as single-threaded
subprocesses, and the per-image time is their difference over N - 1. Each output is checked to
hold N images. A start-up breakdown times bare imports the same way.

    OMP_NUM_THREADS=1 python benchmarks/sample_speed.py [--n 10000 --outs folder,npz]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

TRAIN_FLAGS = [
    "train.steps=3",
    "train.checkpoint_every=3",
    "train.sample_every=0",
    "train.progress=false",
    "train.tensorboard=false",
]

# name -> (recipe, data, overrides)
RECIPES = {
    "dcgan, its check size (digits 16x16, width 32, z 32)": (
        "dcgan",
        "digits",
        ["data.size=16", "model.g_width=32", "model.d_width=32", "model.z_dim=32"],
    ),
    "dcgan, digits 28x28, width 64, z 100": (
        "dcgan",
        "digits",
        ["data.size=28", "model.g_width=64", "model.d_width=64"],
    ),
}

IMPORTS = {
    "python + import torch": "import torch",
    "python + import torch, torchvision.transforms": "import torch, torchvision.transforms",
    "python + ganarium's CLI, capabilities and runs (all of the above)": (
        "import ganarium.cli, ganarium.capabilities, ganarium.runs"
    ),
}

CliRunner = Callable[[list[str]], float]


def subprocess_cli(argv: list[str]) -> float:
    """Seconds `python -m ganarium ARGV` takes as a single-threaded subprocess."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ganarium", *argv], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - t0


def python_seconds(code: str) -> float:
    """Seconds a single-threaded `python -c CODE` takes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def out_path(workdir: Path, run: Path, kind: str, n: int) -> str:
    """Where ``sample --n n`` writes: a folder (trailing /) or an .npz."""
    stem = workdir / f"{run.name}-{n}"
    return f"{stem}/" if kind == "folder" else f"{stem}.npz"


def count_images(out: Path, kind: str) -> int:
    if kind == "folder":
        return len(list(out.glob("*.png")))
    return len(np.load(out)["images"])


def measure_recipe(
    name: str,
    recipe: str,
    data: str,
    overrides: list[str],
    n: int,
    workdir: Path,
    outs: tuple[str, ...] = ("folder", "npz"),
    cli: CliRunner = subprocess_cli,
) -> list[dict]:
    """Train a run for 3 steps into ``workdir``, then time ``sample --n 1`` and ``sample --n n``
    for each output kind; one row per kind."""
    run = workdir / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    train_s = cli(
        ["train", recipe, "--data", data, *overrides, *TRAIN_FLAGS, "--run-dir", str(run)]
    )
    g_params = json.loads((run / "recipe.json").read_text())["nets"].get("G", 0)
    rows = []
    for kind in outs:
        start = cli(["sample", str(run), "--n", "1", "--out", out_path(workdir, run, kind, 1)])
        total = cli(["sample", str(run), "--n", str(n), "--out", out_path(workdir, run, kind, n)])
        if count_images(Path(out_path(workdir, run, kind, n)), kind) != n:
            raise RuntimeError(f"{out_path(workdir, run, kind, n)} does not hold {n} images")
        per_image = (total - start) / max(1, n - 1)
        rows.append(
            {
                "recipe": name,
                "out": kind,
                "g_params": g_params,
                "n": n,
                "train_s": train_s,
                "startup_s": start,
                "total_s": total,
                "per_image_ms": 1000 * per_image,
                "images_per_s": 1 / per_image if per_image > 0 else float("inf"),
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| recipe | G params | --out | start-up (--n 1) | --n N total | per image | images / s (after start-up) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        out = "folder/ (PNG per image)" if r["out"] == "folder" else ".npz"
        lines.append(
            f"| {r['recipe']} | {r['g_params']:,} | {out} | {r['startup_s']:.1f} s | {r['total_s']:.1f} s (N={r['n']:,}) | "
            f"{r['per_image_ms']:.2f} ms | {r['images_per_s']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="samples per timed call")
    parser.add_argument("--outs", default="folder,npz", help="output kinds: folder, npz")
    parser.add_argument("--workdir", help="where run folders and samples go (default: a temp dir)")
    args = parser.parse_args()
    outs = tuple(o for o in args.outs.split(",") if o)
    with tempfile.TemporaryDirectory(prefix="ganarium-sample-speed-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        imports = {label: python_seconds(code) for label, code in IMPORTS.items()}
        rows = [
            row
            for name, (recipe, data, overrides) in RECIPES.items()
            for row in measure_recipe(name, recipe, data, overrides, args.n, workdir, outs)
        ]
    command = " ".join(["OMP_NUM_THREADS=1 python benchmarks/sample_speed.py", *sys.argv[1:]])
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
        f"OMP_NUM_THREADS=1 in every subprocess, torch {torch.__version__}, "
        f"Python {platform.python_version()}.  "
    )
    print(
        f"Command: `{command}`"
        " (runs trained 3 steps; each time one subprocess of `python -m ganarium sample`; per "
        "image = (time at N - time at 1) / (N - 1)).\n"
    )
    print(table(rows) + "\n")
    print("| start-up part | seconds |\n|---|---:|")
    for label, seconds in imports.items():
        print(f"| {label} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
