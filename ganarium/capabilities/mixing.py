"""Style mixing (StyleGAN): ``style_mixing(rows, cols)`` draws a mixing grid."""

from __future__ import annotations

import argparse
from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, Control, DrawContext, register_capability
from ganarium.capabilities._probe import assert_grid, assert_samples


class StyleMixing:
    """Mixin: a recipe offers style_mixing(rows, cols) draws a style-mixing grid."""

    def style_mixing(self, rows: int = 4, cols: int = 4) -> tuple[Tensor, int]:
        """A (rows+1) x (cols+1) grid: the first row and column are the sources, each cell
        takes its row's coarse styles and its column's fine styles. Returns (images, nrow)."""
        raise NotImplementedError

    def mix(self, coarse_z: Tensor, fine_z: Tensor) -> Tensor:
        """Images taking ``coarse_z``'s coarse styles and ``fine_z``'s fine styles."""
        raise NotImplementedError


@register_capability
class StyleMixingCapability(Capability):
    name = "mixing"
    mixin = StyleMixing
    empty = False
    doc = "style_mixing(rows, cols) draws a style-mixing grid"
    control = Control("number", "style-mixing sources per side", low=1, high=8, step=1, default=4)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--mix", action="store_true", help="style-mixing grid (style-based recipes)"
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return bool(args.mix)

    def flag(self) -> str:
        return "--mix"

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        return recipe.style_mixing()

    def probe(self, recipe: Any) -> None:
        images, nrow = recipe.style_mixing(2, 3)
        assert_grid((images, nrow), recipe, "style_mixing(2, 3)")
        assert (len(images), nrow) == (3 * 4, 4), "style_mixing(2, 3) is not a 3 x 4 grid"
        dim = recipe.capabilities().latent_dim
        a, b = torch.randn(2, dim, device=recipe.device), torch.randn(2, dim, device=recipe.device)
        with torch.no_grad():
            mixed = recipe.mix(a, b)
        assert_samples(mixed, recipe, 2, "mix(coarse_z, fine_z)", in_range=False)
