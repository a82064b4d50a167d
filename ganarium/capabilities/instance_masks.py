"""Instance masks (InstaGAN): ``translate(x, direction, masks=)`` takes masks (N, K, H, W) in
{0, 1} and translates only those instances."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, Control, DrawContext, register_capability
from ganarium.capabilities._probe import assert_grid, real_like
from ganarium.capabilities.translate import as_source, at_shape, resized, side_shapes
from ganarium.data.transforms import to_channels


class InstanceMasks:
    """Mixin: a recipe offers translate(x, direction, masks=) translates only the masked instances."""


@register_capability
class InstanceMasksCapability(Capability):
    name = "instance_masks"
    mixin = InstanceMasks
    empty = False
    doc = "translate(x, direction, masks=) translates only the masked instances"
    control = Control("image", "image to translate with an instance mask")
    takes_input = True
    # an image whose light pixels (above mid-gray) mark one instance; none: the context alone
    input_value = Control("image", "mask of the instance (white on black)")

    def draw_input(
        self, recipe: Any, image: Tensor, value: Any, ctx: DrawContext
    ) -> tuple[Tensor, int]:
        """The upload | its mask | its translation in each direction with that instance masked.
        ``value`` is the mask image, read like the upload (None: no instance, the context)."""
        if value is None:
            mask = torch.zeros(1, 1, *image.shape[-2:], device=image.device)
        else:
            mask = (resized(value, image.shape[-2:]).mean(1, keepdim=True) > 0).float()
        row = [image, to_channels(mask * 2 - 1, image.shape[1])]
        for direction in recipe.capabilities().translate:
            x = as_source(recipe.info, image, direction)
            masks = resized(mask, x.shape[-2:], mode="nearest")
            row.append(at_shape(recipe.translate(x, direction, masks=masks), image))
        return torch.cat(row), len(row)

    def probe(self, recipe: Any) -> None:
        """Each direction takes K masks beside its images; with no instance masked the output
        keeps its shape and range; an upload with a mask gets a translation per direction."""
        k = recipe.info.instances
        assert k >= 1, "instance masks on data without instances"
        for direction in recipe.capabilities().translate:
            (c, h, w), _ = side_shapes(recipe.info, direction)
            x = torch.rand(2, c, h, w, device=recipe.device) * 2 - 1
            masks = torch.zeros(2, k, h, w, device=recipe.device)
            masks[0, 0, : h // 2, : w // 2] = 1
            with torch.no_grad():
                y = recipe.translate(x, direction, masks=masks)
            assert y.shape[0] == 2 and torch.isfinite(y).all(), direction
            assert y.abs().max() <= 1 + 1e-5, direction
        image = real_like(recipe, 1)
        mask = -torch.ones_like(image)
        mask[..., : image.shape[-2] // 2, : image.shape[-1] // 2] = 1
        with torch.no_grad():
            grid = self.draw_input(recipe, image, mask, DrawContext(1, 0))
        assert_grid(grid, recipe, "draw_input(upload, mask)")
        assert grid[1] == 2 + len(recipe.capabilities().translate), "image | mask | directions"
