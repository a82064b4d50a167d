"""Does a learning check pass for reasons, or by luck? Run it over seeds and CPU kernel settings.

    python scripts/check_robustness.py gan gman [--seeds 0 1 2] [--kernels default onednn-avx2]
    python scripts/check_robustness.py --fast --seeds 0 1 2 --kernels default   # make test's checks
    python scripts/check_robustness.py --slow --seeds 0 1                          # make test-all's
    python scripts/check_robustness.py --render                # rewrite docs/robustness.md only

GAN training is chaotic: the same code and seed on another CPU (other vector units, so other
oneDNN / MKL kernels and round-off) can end in another place. Each kernel setting below makes
this machine compute as a different one would:

- ``default``: this CPU's best kernels;
- ``onednn-avx2``: oneDNN (convolutions) limited to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``);
- ``mkl-avx2``: MKL (matrix products) in its AVX2 code path (``MKL_CBWR=AVX2``).

Each run is a fresh single-threaded process. Every finished run is saved at once to
``docs/robustness.json`` (so the script resumes where it stopped: runs already there for the
same check settings are skipped; ``--again`` reruns them), and ``docs/robustness.md`` is
rewritten from it: per check the runs, the passes and the worst margin to each bar. A bar's
margin is how far it could be tightened with the run still passing (negative: how far it would
have to be loosened), found by asking the check's own judge, so it holds for every check kind.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "robustness.json"
TABLE = ROOT / "docs" / "robustness.md"
KERNELS: dict[str, dict[str, str]] = {
    "default": {},
    "onednn-avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "mkl-avx2": {"MKL_CBWR": "AVX2"},
}
ONE_RUN = """
import json, sys, torch
torch.set_num_threads(1)
from ganarium.checks import CHECK_KINDS, bar_margins, run_check
r = run_check(sys.argv[1], seed=int(sys.argv[2]))
margins = bar_margins(CHECK_KINDS.get(r.kind).judge, r.before, r.after, r.bars)
print(json.dumps({"before": r.before, "after": r.after, "bars": r.bars, "failures": r.failures,
                  "margins": margins, "steps": r.steps, "seconds": r.seconds}))
"""


def check_signature(name: str) -> str:
    """What a run's result depends on besides the seed and kernels: the registered check's
    settings (its reason and tier do not change the result)."""
    import dataclasses

    from ganarium.checks import learning_check

    return repr(dataclasses.replace(learning_check(name), reason="", slow=False))


def run_one(name: str, seed: int, kernel: str) -> dict:
    env = {**os.environ, **KERNELS[kernel], "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", ONE_RUN, name, str(seed)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"after": {}, "margins": {}, "failures": [f"crashed: {tail[0]}"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load_results() -> dict:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text())
    return {"machine": {}, "runs": {}}


@contextlib.contextmanager
def results_file_lock() -> Iterator[None]:
    """Held while reading, merging and writing docs/robustness.json, so several runs of this
    script (e.g. two kernel settings at once) each add their runs and lose none."""
    with open(RESULTS.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_results(results: dict) -> None:
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    tmp.replace(RESULTS)


def record_run(name: str, seed: int, kernel: str, run: dict) -> dict:
    """Save one finished run into docs/robustness.json (read, merged and written under the
    file's lock, so other writers lose nothing) and rewrite docs/robustness.md; returns the
    results as saved."""
    import torch

    with results_file_lock():
        results = load_results()
        results["machine"] = {"cpu": cpu_model(), "torch": torch.__version__}
        results["runs"][f"{name}|{seed}|{kernel}"] = run
        save_results(results)
        TABLE.write_text(render(results))
    return results


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def summarise(results: dict) -> dict[str, dict]:
    """Per check: runs, passes, failing runs and the worst margin to each bar."""
    from ganarium.checks import learning_check

    out: dict[str, dict] = {}
    signatures: dict[str, str | None] = {}
    for key, run in sorted(results["runs"].items()):
        name, seed, kernel = key.split("|")
        if name not in signatures:
            try:
                signatures[name] = check_signature(name)
            except LookupError:
                signatures[name] = None
        if run.get("check") != signatures[name]:
            continue  # a run of the check as it was before a change: not counted
        entry = out.setdefault(
            name,
            {"runs": 0, "passes": 0, "failed": [], "worst": {}, "slow": False},
        )
        try:
            entry["slow"] = learning_check(name).slow
        except LookupError:
            pass
        entry["runs"] += 1
        entry["passes"] += not run["failures"]
        if run["failures"]:
            entry["failed"].append(f"seed {seed} {kernel}: " + "; ".join(run["failures"]))
        for bar, margin in run.get("margins", {}).items():
            if margin is None:
                continue
            worst = entry["worst"].get(bar)
            if worst is None or margin < worst[0]:
                entry["worst"][bar] = (margin, f"seed {seed} {kernel}")
    return out


def render(results: dict) -> str:
    machine = results.get("machine", {})
    lines = [
        "# Learning checks over seeds and CPU kernel settings",
        "",
        "Written by `scripts/check_robustness.py` from `docs/robustness.json`; do not edit. "
        f"Machine: {machine.get('cpu', '?')}, torch {machine.get('torch', '?')}. A bar's margin "
        "is how far it could be tightened with the run still passing (in the bar's own units; "
        "negative: how far it would have to be loosened); the worst over the check's runs is shown "
        "with the run it came from.",
        "",
        "| check | tier | passes | worst margin per bar | failing runs |",
        "|---|---|---|---|---|",
    ]
    for name, entry in summarise(results).items():
        worst = ", ".join(
            f"{bar} {margin:+.3g} ({where})" for bar, (margin, where) in entry["worst"].items()
        )
        tier = "slow" if entry["slow"] else "make test"
        failed = "<br>".join(entry["failed"]) or "none"
        lines.append(
            f"| `{name}` | {tier} | {entry['passes']} of {entry['runs']} | {worst} | {failed} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checks", nargs="*", help="recipe names")
    parser.add_argument("--fast", action="store_true", help="every check in make test")
    parser.add_argument("--slow", action="store_true", help="every check marked slow")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--kernels", nargs="+", choices=list(KERNELS), default=["default"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--again", action="store_true", help="rerun runs already saved")
    parser.add_argument("--render", action="store_true", help="only rewrite docs/robustness.md")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import torch

    from ganarium.checks import learning_check
    from ganarium.models import RECIPES

    results = load_results()
    results["machine"] = {"cpu": cpu_model(), "torch": torch.__version__}
    if args.render:
        TABLE.write_text(render(results))
        return
    names = list(args.checks)
    for name in RECIPES.names():
        slow = learning_check(name).slow
        if (args.fast and not slow) or (args.slow and slow):
            names.append(name)
    if not names:
        parser.error("name checks, or pass --fast or --slow")
    signature = {n: check_signature(n) for n in names}
    runs = [
        (n, s, k)
        for n in names
        for s in args.seeds
        for k in args.kernels
        if args.again or results["runs"].get(f"{n}|{s}|{k}", {}).get("check") != signature[n]
    ]
    print(f"{len(runs)} runs to do ({len(names)} checks)", flush=True)
    lock = threading.Lock()

    def one(run: tuple[str, int, str]) -> None:
        name, seed, kernel = run
        out = run_one(name, seed, kernel)
        out["check"] = signature[name]
        figures = ", ".join(f"{k} {v:.3g}" for k, v in out["after"].items())
        verdict = "PASS" if not out["failures"] else "FAIL: " + "; ".join(out["failures"])
        with lock:
            results.update(record_run(name, seed, kernel, out))
            print(f"{name} seed {seed} {kernel}: {figures} -> {verdict}", flush=True)

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, runs))
    with results_file_lock():
        results.update(load_results(), machine=results["machine"])
        save_results(results)
        TABLE.write_text(render(results))
    for name, entry in summarise(results).items():
        if name in names:
            print(f"{name}: passes {entry['passes']} of {entry['runs']}")


if __name__ == "__main__":
    main()
