"""Input | output | cycle grids of the unpaired translators, for docs/translation.md.

Each recipe is trained exactly as its learning check says (``ganarium.checks.check_trainer``:
data, model overrides, steps, seed 0, CPU), then its preview of held-out test examples is saved
as docs/figures/translation/<recipe>.png: rows of A | A->B | A->B->A | B | B->A | B->A->B
(InstaGAN: A | A's masks | A->B | translated masks | B | B->A).

    python scripts/translation_grids_unpaired.py [--only cyclegan,instagan] [--rows 8] [--scale 4]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from ganarium.checks import check_trainer
from ganarium.data import load_dataset
from ganarium.data.stream import fixed_examples

RECIPES = ("cyclegan", "discogan", "dualgan", "csgan", "instagan")
OUT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "translation"


def upscale(grid: torch.Tensor, scale: int) -> torch.Tensor:
    """(C, H, W) -> (C, scale H, scale W), nearest neighbour, so 16-pixel images stay crisp."""
    return grid.repeat_interleave(scale, 1).repeat_interleave(scale, 2)


def grid_for(name: str, rows: int, scale: int = 4) -> Path:
    trainer, check, _ = check_trainer(name)
    t0 = time.perf_counter()
    trainer.fit()
    test = load_dataset(check.data, **{**check.data_options, "split": "test"})
    with torch.random.fork_rng():
        examples = fixed_examples(test, rows, seed=0)
        preview = trainer.recipe.preview(6 * rows, examples)
    grid = make_grid(
        preview.images, nrow=preview.nrow, normalize=True, value_range=(-1, 1), padding=1
    )
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    save_image(grid, path)
    print(f"{name}: {check.steps} steps in {time.perf_counter() - t0:.0f} s -> {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(RECIPES), help="comma-separated recipes")
    parser.add_argument("--rows", type=int, default=8, help="test examples (rows) per grid")
    parser.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscaling")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.only.split(","):
        grid_for(name.strip(), args.rows, args.scale)


if __name__ == "__main__":
    main()
