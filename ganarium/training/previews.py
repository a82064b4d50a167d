"""Sample grids: the recipe's preview drawn with the same noise (and, for recipes whose preview
needs inputs, the same fixed examples) at every ``train.sample_every`` steps, outside the
training RNG stream, saved as PNG and to TensorBoard by the writing process."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import torch
from torch.utils.data import Dataset

from ganarium.data.stream import fixed_examples
from ganarium.recipe import Batch, Preview

if TYPE_CHECKING:
    from ganarium.training.trainer import Trainer

PREVIEW_SEED_OFFSET = 12345  # the grids' noise: train.seed + this, the same at every step


def save_image(grid: torch.Tensor, path: str | os.PathLike) -> None:
    """torchvision's save_image, imported when a grid is first written (not with the module)."""
    from torchvision.utils import save_image as write

    write(grid, path)


class Previews:
    """The previews of one Trainer; ``source`` gives the fixed examples (translators' inputs)."""

    def __init__(self, source: Dataset) -> None:
        self.source = source
        self._examples: Batch | None = None

    def examples(self, trainer: Trainer) -> Batch:
        """A fixed batch of ``n_grid`` examples for the recipe's preview (drawn once, seeded)."""
        if self._examples is None:
            with trainer.strategy.fork_rng():
                batch = fixed_examples(self.source, trainer.cfg.n_grid, trainer.cfg.seed)
            self._examples = {k: v.to(trainer.device) for k, v in batch.items()}
        return self._examples

    def preview(self, trainer: Trainer) -> Preview | None:
        """The recipe's preview at this step, drawn with the same noise every time and outside
        the training RNG stream."""
        with trainer.strategy.fork_rng():
            torch.manual_seed(trainer.cfg.seed + PREVIEW_SEED_OFFSET)
            return trainer.recipe.preview(trainer.cfg.n_grid, self.examples(trainer))

    def save(self, trainer: Trainer) -> None:
        """Write this step's grid (a failed write warns once and training goes on)."""
        if not trainer.writes:
            return
        preview = self.preview(trainer)
        if preview is None:
            return
        from torchvision.utils import make_grid  # lazily: ~1 s per command

        grid = make_grid(
            preview.images.float().cpu(), nrow=preview.nrow, normalize=True, value_range=(-1, 1)
        )
        run = trainer.run
        trainer.logs.nonessential_write(
            "sample grid",
            lambda: (
                run.samples.mkdir(parents=True, exist_ok=True),
                save_image(grid, run.sample_grid(trainer.step)),
            ),
        )
        tensorboard = trainer.logs.tensorboard(trainer)
        if tensorboard is not None:
            tensorboard.add_image("samples", grid, trainer.step)
