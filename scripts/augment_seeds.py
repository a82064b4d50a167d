"""The 500-digit augmentation comparison over seeds (issue 12's bar: with augmentation, a lower
domain FID than without at equal steps): a DCGAN on 500 training digits, trained with
augment=none, diffaugment and ada at equal steps and seed, each one's domain FID along the way
and at the end, and ADA's final p.

    OMP_NUM_THREADS=1 python scripts/augment_seeds.py [--regime check-d|wide-d] [--seeds 0 1 2]
        [--augments none diffaugment ada] [--every 1000]

Two regimes:
- ``check-d``: the DCGAN of the ``dcgan`` check (widths 32, D with batch norm), 2000 steps. This
  D never overfits 500 digits within a CPU budget (docs/style.md).
- ``wide-d``: G as in the check, D 128 wide without normalization, 8000 steps: the papers'
  regime, where D memorises the few reals and FID rises again (seed 0 without augmentation:
  24.1 at 5000 steps, 41.0 at 8000).

The baseline is trained once per seed: the runs share every setting but ``augment`` and the
strengths of their own augmentation, which augment=none does not read. Samples are drawn as a
check draws them (``torch.manual_seed(seed + 777)``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from ganarium.checks import check_trainer
from ganarium.checks.core import N_DIGITS, digit_scores
from ganarium.models import LearningCheck
from ganarium.models.augmented import FEW_DIGITS_CHECK
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.recipe import Recipe, generate_batched
from ganarium.training.trainer import Callback, Trainer

ROOT = Path(__file__).resolve().parents[1]
FEW = FEW_DIGITS_CHECK["data_options"]  # 500 digits, 16x16
# each regime: the check it trains as, and each augmentation's settings (chosen on seed 0)
REGIMES: dict[str, tuple[LearningCheck, dict[str, dict[str, Any]]]] = {
    "check-d": (
        LearningCheck(**{**DIGITS_CHECK, "data_options": FEW, "steps": 2000}),
        {
            "none": {"augment": "none"},
            "diffaugment": {
                "augment": "diffaugment",
                "augment_policy": "cutout",
                "augment_cutout": 0.25,
            },
            "ada": {"augment": "ada"},  # the paper's bgc pipeline, target 0.6, rampup 500k
        },
    ),
    "wide-d": (
        LearningCheck(**FEW_DIGITS_CHECK),  # the dcgan-diffaugment check's settings
        {
            "none": {"augment": "none"},
            "diffaugment": {"augment": "diffaugment"},  # the paper's colour, translation, cutout
            "ada": {"augment": "ada"},
        },
    ),
}


def domain_fid(recipe: Recipe, seed: int) -> float:
    with torch.random.fork_rng():
        torch.manual_seed(seed + 777)
        return digit_scores(generate_batched(recipe, N_DIGITS))["domain_fid"]


class Trajectory(Callback):
    """Prints domain FID every ``every`` steps (overfitting shows as a rise late in training).
    A callback rather than a Trainer evaluator: it draws with the seed the end measure uses."""

    def __init__(self, every: int, seed: int, label: str):
        self.every, self.seed, self.label = every, seed, label

    def on_step(self, trainer: Trainer) -> None:
        if self.every and trainer.step % self.every == 0 and trainer.step < trainer.cfg.steps:
            fid = domain_fid(trainer.recipe, self.seed)
            print(f"  {self.label}: step {trainer.step} FID {fid:.1f}", flush=True)


def train_and_score(regime: str, augment: str, seed: int, every: int) -> tuple[float, dict, float]:
    """(domain FID, the augmenter's state (ADA's p), seconds) after training."""
    check, settings = REGIMES[regime]
    t0 = time.perf_counter()
    model = {**check.model, **settings[augment]}
    trainer, _, _ = check_trainer("dcgan", seed=seed, model=model, check=check)
    trainer.fit([Trajectory(every, seed, f"seed {seed} {augment}")])
    fid = domain_fid(trainer.recipe, seed)
    state = trainer.recipe.augmenter.learning_state()
    return fid, state, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regime", choices=list(REGIMES), default="check-d")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--augments", nargs="+", default=["none", "diffaugment", "ada"])
    parser.add_argument("--every", type=int, default=0, help="also print FID every N steps")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.augments[0] != "none" or any(a not in REGIMES[args.regime][1] for a in args.augments):
        raise SystemExit("--augments: 'none' first (the baseline), then diffaugment and/or ada")
    out = args.out or ROOT / "docs" / "figures" / f"augment_seeds_{args.regime}.md"
    torch.set_num_threads(1)
    check, settings = REGIMES[args.regime]

    rows = []
    for seed in args.seeds:
        fids, p = {}, float("nan")
        for augment in args.augments:
            fid, state, secs = train_and_score(args.regime, augment, seed, args.every)
            fids[augment] = fid
            p = state.get("ada_p", p)
            print(f"seed {seed}: {augment} FID {fid:.2f} ({secs:.0f}s)", flush=True)
        rows.append((seed, fids, p))

    shown = ", ".join(
        f"{a}: { ({k: v for k, v in settings[a].items() if k != 'augment'} or 'defaults') }"
        for a in args.augments[1:]
    )
    lines = [
        f"DCGAN ({check.model}) on {check.data_options.get('limit')} training digits "
        f"({check.data_options.get('size')}x{check.data_options.get('size')}), {check.steps} "
        f"steps, batch {check.train.get('batch_size')}; domain FID against the test digits (lower "
        f"is better), same seed and steps in each row. Settings: {shown}.",
        "",
        "| seed | " + " | ".join(f"FID {a}" for a in args.augments) + " | ADA's final p |",
        "|---:|" + "---:|" * (len(args.augments) + 1),
    ]
    for seed, fids, p in rows:
        cells = " | ".join(f"{fids[a]:.1f}" for a in args.augments)
        lines.append(f"| {seed} | {cells} | {p:.3f} |")
    lines.append("")
    for a in args.augments[1:]:
        wins = sum(f[a] < f["none"] for _, f, _ in rows)
        lines.append(f"Lower than without: {a} in {wins} of {len(rows)} seeds.")
    table = "\n".join(lines) + "\n"
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
