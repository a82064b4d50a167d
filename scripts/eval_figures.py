"""Train DCGAN and WGAN-GP briefly on digits and stacked digits (CPU), evaluate each run with
`ganarium eval`'s metrics, and write docs/eval_figures.md.

    python scripts/eval_figures.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "eval_figures.md"
RUNS = [
    # (recipe, data, steps, n samples)
    ("dcgan", "digits", 1500, 1000),
    ("wgan-gp", "digits", 600, 1000),
    ("dcgan", "stacked-digits", 1500, 5000),
    ("wgan-gp", "stacked-digits", 600, 5000),
]
COMMON = [
    "data.size=16",
    "model.g_width=32",
    "model.d_width=32",
    "model.z_dim=32",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.checkpoint_every=0",
]


def one(job: tuple[str, str, int, int]) -> dict:
    import torch

    torch.set_num_threads(1)
    from ganarium.runs import evaluate_run, start_run

    recipe, data, steps, n = job
    with tempfile.TemporaryDirectory() as tmp:
        run = str(Path(tmp) / "run")
        trainer = start_run(recipe, data, COMMON + [f"train.steps={steps}"], run_dir=run)
        before = evaluate_run_untrained(trainer, n)
        trainer.fit()
        trainer.save()
        after = evaluate_run(run, ["fid", "kid", "pr", "dc", "modes"], n, progress=False)
    return {
        "recipe": recipe,
        "data": data,
        "steps": steps,
        "n": n,
        "untrained": before,
        "trained": after,
    }


def evaluate_run_untrained(trainer, n: int) -> dict:
    trainer.save()
    from ganarium.runs import evaluate_run

    return evaluate_run(str(trainer.run.path), ["fid", "modes"], n, progress=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, RUNS))
    lines = [
        "# Evaluation figures (CPU, 16x16, width 32)",
        "",
        "Written by `python scripts/eval_figures.py`. Short CPU runs, so the numbers show the metrics at",
        "work, not the recipes' best. FID/precision/recall/density/coverage use the project's digit",
        "classifier (three channels concatenated for stacked digits) against the held-out test split;",
        "they are not Inception numbers.",
        "",
        "| recipe | data | steps | FID untrained | FID trained | KID | precision | recall | F1 | density | coverage | modes (untrained -> trained) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        t, u = r["trained"], r["untrained"]
        tag = next(k[4:-1] for k in t if k.startswith("fid["))
        mode_key = "modes_covered" if r["data"] == "stacked-digits" else "classes_covered"
        of = "/1000" if r["data"] == "stacked-digits" else "/10"
        lines.append(
            f"| {r['recipe']} | {r['data']} | {r['steps']} | {u[f'fid[{tag}]']:.1f} | {t[f'fid[{tag}]']:.1f} | "
            f"{t[f'kid[{tag}]']:.3f} | {t[f'precision[{tag}]']:.3f} | {t[f'recall[{tag}]']:.3f} | {t[f'f1[{tag}]']:.3f} | "
            f"{t[f'density[{tag}]']:.3f} | {t[f'coverage[{tag}]']:.3f} | {u[mode_key]:.0f}{of} -> {t[mode_key]:.0f}{of} |"
        )
    OUT.write_text("\n".join(lines) + "\n\n```json\n" + json.dumps(results, indent=1) + "\n```\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
