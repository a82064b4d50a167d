"""Golden trajectories: is a refactor pure? A hash of every recipe's weights after 10 steps.

    python scripts/golden.py record            # write scripts/golden.json on this machine
    python scripts/golden.py check             # compare this tree with it (exit 1 if any moved)
    python scripts/golden.py check dcgan gan   # only these recipes
    make golden                                # the same as check

Each recipe is built and trained as its learning check says (data, model options, train
settings), at batch 16 for 10 steps, single-threaded on the CPU; the hash covers every
parameter and buffer of the recipe (EMA copies included) and its extra state. A change that
leaves a recipe's hash alone is pure for that recipe; where a hash moves, re-run that recipe's
learning check. Hashes hold for one CPU and torch version (other kernels round differently):
the file names both, and `check` refuses to compare across them unless told (--any-machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from check_robustness import cpu_model  # scripts/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "scripts" / "golden.json"
STEPS, BATCH = 10, 16


def _digest(value: object, h: hashlib._Hash) -> None:
    import torch

    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            h.update(str(k).encode())
            _digest(value[k], h)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _digest(v, h)
    else:
        h.update(repr(value).encode())


def recipe_hash(name: str) -> str:
    """The hash of ``name``'s state after STEPS steps at batch BATCH, as its check sets it up."""
    import torch

    torch.set_num_threads(1)
    from ganarium.checks import check_trainer

    trainer = check_trainer(name, seed=0, steps=STEPS, train_options={"batch_size": BATCH})[0]
    trainer.fit()
    h = hashlib.sha256()
    _digest(trainer.recipe.state_dict(), h)
    _digest(trainer.recipe.extra_state(), h)
    return h.hexdigest()[:20]


def _one(name: str) -> tuple[str, str, float]:
    t0 = time.perf_counter()
    try:
        digest = recipe_hash(name)
    except Exception as e:  # noqa: BLE001 - a broken recipe is a finding, not a crash
        digest = f"error: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return name, digest, time.perf_counter() - t0


def compute(names: list[str], jobs: int) -> dict[str, str]:
    out: dict[str, str] = {}
    with ProcessPoolExecutor(jobs) as pool:
        for name, digest, seconds in pool.map(_one, names):
            out[name] = digest
            print(f"{name:20s} {digest}  ({seconds:.1f} s)", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("recipes", nargs="*", help="only these recipes (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--file", type=Path, default=GOLDEN)
    parser.add_argument("--any-machine", action="store_true", help="compare across CPUs")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import torch

    from ganarium.models import RECIPES

    machine = {"cpu": cpu_model(), "torch": torch.__version__, "steps": STEPS, "batch": BATCH}
    names = args.recipes or RECIPES.names()
    if args.action == "record":
        hashes = compute(names, args.jobs)
        old = json.loads(args.file.read_text())["recipes"] if args.file.exists() else {}
        if args.recipes:
            hashes = {**old, **hashes}
        record = {"machine": machine, "recipes": dict(sorted(hashes.items()))}
        args.file.write_text(json.dumps(record, indent=1) + "\n")
        print(
            f"recorded {len(hashes)} recipes in {args.file} ({machine['cpu']}, torch {machine['torch']})"
        )
        return 0
    if not args.file.exists():
        print(f"no golden file {args.file}: run `python scripts/golden.py record` first")
        return 2
    golden = json.loads(args.file.read_text())
    if not args.any_machine and (
        golden["machine"]["cpu"],
        golden["machine"]["torch"],
    ) != (machine["cpu"], machine["torch"]):
        print(
            f"{args.file} was recorded on {golden['machine']['cpu']} with torch "
            f"{golden['machine']['torch']}; this is {machine['cpu']} with torch {machine['torch']}: "
            "hashes differ across CPUs, so record on this machine first (or --any-machine)"
        )
        return 2
    hashes = compute(names, args.jobs)
    moved = [n for n in names if golden["recipes"].get(n) != hashes[n]]
    new = [n for n in moved if n not in golden["recipes"]]
    for n in moved:
        print(f"MOVED {n}: {golden['recipes'].get(n, '(not recorded)')} -> {hashes[n]}")
    print(
        f"{len(names) - len(moved)} of {len(names)} recipes unchanged"
        + (f"; moved: {', '.join(n for n in moved if n not in new)}" if moved else "")
        + (f"; not recorded: {', '.join(new)}" if new else "")
    )
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
