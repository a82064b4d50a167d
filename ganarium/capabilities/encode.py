"""An encoder: ``encode(x)`` maps real images to latents and ``reconstruct(x)`` back."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, Control, DrawContext, register_capability
from ganarium.capabilities._probe import assert_grid, assert_samples, real_like


class Encoder:
    """Mixin: a recipe offers encode(x) and reconstruct(x)."""

    def encode(self, x: Tensor) -> Any:
        raise NotImplementedError

    def reconstruct(self, x: Tensor) -> Tensor:
        raise NotImplementedError


@register_capability
class EncoderCapability(Capability):
    name = "encode"
    mixin = Encoder
    empty = False
    doc = "encode(x) and reconstruct(x)"
    control = Control("image", "image to reconstruct")
    takes_input = True

    def draw_input(
        self, recipe: Any, image: Tensor, value: Any, ctx: DrawContext
    ) -> tuple[Tensor, int]:
        """The upload | its reconstruction G(E(x))."""
        return torch.cat([image, recipe.reconstruct(image).float().to(image.device)]), 2

    def probe(self, recipe: Any) -> None:
        x = real_like(recipe)
        with torch.no_grad():
            code = recipe.encode(x)
            first = code[0] if isinstance(code, tuple) else code
            assert isinstance(first, Tensor) and len(first) == 3, "encode(x): one code per image"
            assert_samples(recipe.reconstruct(x), recipe, 3, "reconstruct(x)", in_range=False)
            grid = self.draw_input(recipe, x[:1], None, DrawContext(1, 0))
        assert_grid(grid, recipe, "draw_input(upload)")
        assert len(grid[0]) == grid[1] == 2, "an upload and its reconstruction"
