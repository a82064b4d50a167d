"""Translation: ``translate(x, direction)`` for each of ``directions`` (e.g. AtoB, BtoA).
Translators take images of any size (they pad and crop themselves)."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.nn import functional as F

from ganarium.capabilities import (
    Capability,
    CapabilityError,
    Control,
    DrawContext,
    register_capability,
)
from ganarium.capabilities._probe import assert_grid, real_like
from ganarium.data import DataInfo
from ganarium.data.paired import side_shapes as domain_shapes
from ganarium.data.transforms import to_channels


class Translator:
    """Mixin: a recipe offers translate(x, direction)."""

    directions: ClassVar[tuple[str, ...]] = ("AtoB",)

    def translate(self, x: Tensor, direction: str = "AtoB") -> Tensor:
        """Images (B, C, H, W) of the direction's source domain, in [-1, 1] -> translations."""
        raise NotImplementedError


def side_shapes(info: DataInfo, direction: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(source shape, target shape) of ``direction`` on two-domain data ``info``."""
    a, b = domain_shapes(info)
    return (a, b) if direction == "AtoB" else (b, a)


def resized(x: Tensor, size: tuple[int, ...], mode: str = "bilinear") -> Tensor:
    """Images (N, C, H, W) at ``size`` (H, W), antialiased; unchanged when already that size."""
    size = tuple(int(s) for s in size)
    if tuple(x.shape[-2:]) == size:
        return x
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode=mode, antialias=True, align_corners=False)


def as_source(info: DataInfo, image: Tensor, direction: str) -> Tensor:
    """An image of the data's shape as an input of ``direction``: its source side's channels
    and size (a super-resolver's small side, a colouriser's gray one)."""
    (c, h, w), _ = side_shapes(info, direction)
    return resized(to_channels(image, c), (h, w))


def at_shape(x: Tensor, like: Tensor) -> Tensor:
    """Images resized and converted to the channels of ``like``, to sit in one grid with it."""
    return resized(to_channels(x.float(), like.shape[1]), like.shape[-2:]).to(like.device)


@register_capability
class TranslatorCapability(Capability):
    name = "translate"
    mixin = Translator
    empty = ()
    doc = "translate(x, direction)"
    control = Control("image", "image to translate", choices="translate")
    replaces_sampling = True  # a translator has no noise to sample: its grid is held-out rows
    takes_input = True

    def value(self, recipe: Translator) -> object:
        return tuple(recipe.directions)

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        """Rows of input | output | target (and the way back) for held-out examples."""
        examples = ctx.held_out_examples(ctx.n)
        if examples is None:
            raise CapabilityError(
                f"the run's data {recipe.info.name!r} has no test split to translate"
            )
        preview = recipe.preview(len(examples["image"]), examples)
        return preview.images, preview.nrow

    def draw_input(
        self, recipe: Any, image: Tensor, value: Any, ctx: DrawContext
    ) -> tuple[Tensor, int]:
        """One row: the upload | its translation in each direction (at the data's shape)."""
        row = [image]
        for direction in recipe.capabilities().translate:
            out = recipe.translate(as_source(recipe.info, image, direction), direction)
            row.append(at_shape(out, image))
        return torch.cat(row), len(row)

    def probe(self, recipe: Any) -> None:
        """Every direction maps inputs of its source side, at a size the data lacks, to finite
        images of the target side's channels in [-1, 1]; an upload gets one translation per
        direction beside it."""
        directions = recipe.capabilities().translate
        assert directions and set(directions) <= {"AtoB", "BtoA"}, f"directions {directions!r}"
        for direction in directions:
            src, dst = side_shapes(recipe.info, direction)
            g = torch.Generator().manual_seed(0)
            x = torch.rand(2, src[0], src[1] + 3, src[2] + 5, generator=g) * 2 - 1
            with torch.no_grad():
                y = recipe.translate(x.to(recipe.device), direction)
            assert y.shape[0] == 2 and y.shape[1] == dst[0], f"{direction}: shape {y.shape}"
            assert torch.isfinite(y).all() and y.abs().max() <= 1 + 1e-5, direction
        with torch.no_grad():
            grid = self.draw_input(recipe, real_like(recipe, 1), None, DrawContext(1, 0))
        assert_grid(grid, recipe, "draw_input(upload)")
        assert len(grid[0]) == grid[1] == 1 + len(directions), "one image per direction"
