"""Editing: ``edit(x, label)`` re-generates real images with another label."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import (
    Capability,
    CapabilityError,
    Control,
    DrawContext,
    register_capability,
)
from ganarium.capabilities._probe import assert_grid, assert_samples, real_like


class Editor:
    """Mixin: a recipe offers edit(x, label) re-generates real images with another label."""

    def edit(self, x: Tensor, label: int | Tensor) -> Tensor:
        raise NotImplementedError


def class_number(value: Any, num_classes: int) -> int:
    """A class from a control's value ("3", 3.0, 3), or one line why it is not one."""
    try:
        label = int(float(value))
    except (TypeError, ValueError):
        raise CapabilityError(f"class {value!r} is not a number") from None
    if label != float(value) or not 0 <= label < num_classes:
        raise CapabilityError(f"class {value!r}: the data has classes 0..{num_classes - 1}")
    return label


@register_capability
class EditorCapability(Capability):
    name = "edit"
    mixin = Editor
    empty = False
    doc = "edit(x, label) re-generates real images with another label"
    control = Control("image", "image to edit")
    takes_input = True
    # the data's classes from 0 (a dropdown lists them)
    input_value = Control("dropdown", "class to edit the image into", low=0, default=0)

    def draw_input(
        self, recipe: Any, image: Tensor, value: Any, ctx: DrawContext
    ) -> tuple[Tensor, int]:
        """The upload | the upload re-generated with class ``value``."""
        label = class_number(value, recipe.info.num_classes)
        return torch.cat([image, recipe.edit(image, label).float().to(image.device)]), 2

    def probe(self, recipe: Any) -> None:
        with torch.no_grad():
            out = recipe.edit(real_like(recipe), 1)
            grid = self.draw_input(recipe, real_like(recipe, 1), "1", DrawContext(1, 0))
        assert_samples(out, recipe, 3, "edit(x, 1)", in_range=False)
        assert_grid(grid, recipe, "draw_input(upload, class 1)")
        assert len(grid[0]) == grid[1] == 2, "an upload and its edit"
        for bad in ("seven", recipe.info.num_classes):
            try:
                self.draw_input(recipe, real_like(recipe, 1), bad, DrawContext(1, 0))
            except CapabilityError:
                continue
            raise AssertionError(f"draw_input took class {bad!r}")
