"""Input | output | target grids of the paired translators for docs/translation.md.

Each recipe is trained exactly as its learning check says (data, model, steps, seed 0, CPU),
then translates held-out examples evenly spaced over the check's test split; the grid (rows: examples;
columns: input, output, target) goes to docs/figures/translation/<recipe>.png and the held-out
metrics to docs/figures/translation/metrics.json. ``--recipes`` picks some; ``pix2pix-l1`` is
pix2pix with lambda_adv = 0 (the paper's L1-only ablation).

    .venv/bin/python scripts/translation_figures.py [--recipes pix2pix srgan] [--rows 10]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from ganarium.checks import check_trainer
from ganarium.checks.translation import held_out_metrics
from ganarium.data import load_dataset
from ganarium.metrics.translation import as_tensors

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "translation"
RECIPES = ("pix2pix", "pix2pix-l1", "pix2pixhd", "context-encoder", "srgan", "colorization")


def figure(name: str, rows: int, seed: int = 0) -> dict[str, float]:
    recipe, model = ("pix2pix", {"lambda_adv": 0.0}) if name == "pix2pix-l1" else (name, {})
    t0 = time.perf_counter()
    trainer, check, info = check_trainer(recipe, seed=seed, model=model)
    trainer.fit()
    net = trainer.recipe.eval()
    held_out = load_dataset(check.data, **{**check.data_options, "split": "test"})
    data = as_tensors(held_out)
    # evenly spaced over the split (the digit splits are sorted by class: one of each)
    idx = torch.linspace(0, len(data["image"]) - 1, rows).round().long()
    examples = {k: v[idx] for k, v in data.items()}
    with torch.random.fork_rng():
        torch.manual_seed(seed + 777)
        preview = net.preview(rows, examples)
        metrics = held_out_metrics(net, info, check)
    grid = make_grid(
        preview.images,
        nrow=preview.nrow,
        normalize=True,
        value_range=(-1, 1),
        padding=1,
        pad_value=0.5,
    )
    # at least 64 px per tile so the small images stay readable
    scale = max(1, 64 // preview.images.shape[-1])
    grid = torch.nn.functional.interpolate(grid[None], scale_factor=scale, mode="nearest")[0]
    OUT.mkdir(parents=True, exist_ok=True)
    save_image(grid, OUT / f"{name}.png")
    metrics["seconds"] = time.perf_counter() - t0
    metrics["steps"] = trainer.cfg.steps
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES))
    parser.add_argument("--rows", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    path = OUT / "metrics.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in args.recipes:
        results[name] = figure(name, args.rows)
        print(name, {k: round(v, 3) for k, v in results[name].items()}, flush=True)
        path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
