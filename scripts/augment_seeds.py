"""The 500-digit augmentation comparison over seeds (issue 12's bar: with augmentation, a lower
domain FID than without at equal steps): the DCGAN of the ``dcgan`` check on 500 training
digits, trained with augment=none, diffaugment and ada at equal steps and seed, each one's
domain FID, and ADA's final p.

    OMP_NUM_THREADS=1 python scripts/augment_seeds.py [--seeds 0 1 2] [--out docs/figures/augment_seeds.md]

The baseline is trained once per seed: the three runs share every setting but ``augment`` and the
strengths of their own augmentation, which augment=none does not read. Samples are drawn as a
check draws them (``torch.manual_seed(seed + 777)``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ganarium.checks import check_trainer
from ganarium.checks.core import N_DIGITS, digit_scores
from ganarium.models import LearningCheck
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.recipe import generate_batched

ROOT = Path(__file__).resolve().parents[1]
# the dcgan check on 500 digits; each augmentation's settings (chosen on seed 0, docs/style.md)
FEW_DIGITS = LearningCheck(
    **{**DIGITS_CHECK, "data_options": dict(size=16, limit=500), "steps": 2000}
)
SETTINGS = {
    "none": {"augment": "none"},
    "diffaugment": {"augment": "diffaugment", "augment_policy": "cutout", "augment_cutout": 0.25},
    "ada": {"augment": "ada"},  # the paper's bgc pipeline, target 0.6, interval 4, rampup 500k
}


def train_and_score(augment: str, seed: int) -> tuple[float, dict, float]:
    """(domain FID, the augmenter's state (ADA's p), seconds) after the check's training."""
    t0 = time.perf_counter()
    model = {**FEW_DIGITS.model, **SETTINGS[augment]}
    trainer, check, _ = check_trainer("dcgan", seed=seed, model=model, check=FEW_DIGITS)
    trainer.fit()
    with torch.random.fork_rng():
        torch.manual_seed(seed + 777)
        fid = digit_scores(generate_batched(trainer.recipe, N_DIGITS))["domain_fid"]
    return fid, trainer.recipe.augmenter.learning_state(), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "augment_seeds.md")
    args = parser.parse_args()
    torch.set_num_threads(1)

    check = FEW_DIGITS
    rows = []
    for seed in args.seeds:
        base, _, t_base = train_and_score("none", seed)
        diff, _, t_diff = train_and_score("diffaugment", seed)
        ada, state, t_ada = train_and_score("ada", seed)
        rows.append((seed, base, diff, ada, state.get("ada_p", float("nan"))))
        print(
            f"seed {seed}: none {base:.2f} ({t_base:.0f}s), diffaugment {diff:.2f} ({t_diff:.0f}s),"
            f" ada {ada:.2f} ({t_ada:.0f}s, p {rows[-1][4]:.3f})",
            flush=True,
        )

    diff_model = {k: v for k, v in SETTINGS["diffaugment"].items() if k != "augment"}
    lines = [
        f"DCGAN on {check.data_options.get('limit')} training digits "
        f"({check.data_options.get('size')}x{check.data_options.get('size')}), "
        f"{check.steps} steps, batch {check.train.get('batch_size')}; domain FID against the "
        "test digits (lower is better), same seed and steps in each row. DiffAugment: "
        f"{diff_model}; ADA: the paper's bgc pipeline, target 0.6, rampup 500k images.",
        "",
        "| seed | FID without | with diffaugment | with ada | ADA's final p |",
        "|---:|---:|---:|---:|---:|",
    ]
    for seed, base, diff, ada, p in rows:
        lines.append(f"| {seed} | {base:.1f} | {diff:.1f} | {ada:.1f} | {p:.3f} |")
    wins_d = sum(d < b for _, b, d, _, _ in rows)
    wins_a = sum(a < b for _, b, _, a, _ in rows)
    lines += [
        "",
        f"Lower than without: diffaugment in {wins_d} of {len(rows)} seeds, "
        f"ada in {wins_a} of {len(rows)}.",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)


if __name__ == "__main__":
    main()
