"""Does a learning check pass for reasons, or by luck? Run it over seeds and CPU kernel settings.

    python scripts/check_robustness.py gan gman [--seeds 0 1 2] [--kernels default onednn-avx2
        mkl-avx2] [--jobs 2]

GAN training is chaotic: the same code and seed on another CPU (other vector units, so other
oneDNN / MKL kernels and round-off) can end in another place. The recorded figures of this
project's checks came from one machine; a check that passes on one seed and one CPU only is
fragile. Each kernel setting below makes this machine compute as a different one would:

- ``default``: this CPU's best kernels;
- ``onednn-avx2``: oneDNN (convolutions) limited to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``);
- ``mkl-avx2``: MKL (matrix products) in its AVX2 code path (``MKL_CBWR=AVX2``).

Each run is a fresh single-threaded process; prints a line per run and a pass count per check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

KERNELS: dict[str, dict[str, str]] = {
    "default": {},
    "onednn-avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "mkl-avx2": {"MKL_CBWR": "AVX2"},
}
ONE_RUN = """
import json, sys, torch
torch.set_num_threads(1)
from ganarium.checks import run_check
r = run_check(sys.argv[1], seed=int(sys.argv[2]))
print(json.dumps({"after": r.after, "failures": r.failures}))
"""


def run_one(name: str, seed: int, kernel: str) -> dict:
    env = {**os.environ, **KERNELS[kernel], "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", ONE_RUN, name, str(seed)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        return {"after": {}, "failures": [f"crashed: {proc.stderr.strip().splitlines()[-1:]}"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checks", nargs="+", help="recipe names")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--kernels", nargs="+", choices=list(KERNELS), default=list(KERNELS))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    runs = [(n, s, k) for n in args.checks for s in args.seeds for k in args.kernels]
    passed: dict[str, int] = {n: 0 for n in args.checks}
    with ThreadPoolExecutor(args.jobs) as pool:
        for (name, seed, kernel), out in zip(runs, pool.map(lambda r: run_one(*r), runs)):
            figures = ", ".join(f"{k} {v:.3g}" for k, v in out["after"].items())
            verdict = "PASS" if not out["failures"] else "FAIL: " + "; ".join(out["failures"])
            passed[name] += not out["failures"]
            print(f"{name} seed {seed} {kernel}: {figures} -> {verdict}", flush=True)
    per = len(args.seeds) * len(args.kernels)
    for name, n in passed.items():
        print(f"{name}: passes {n} of {per} (seeds {args.seeds} x kernels {args.kernels})")


if __name__ == "__main__":
    main()
