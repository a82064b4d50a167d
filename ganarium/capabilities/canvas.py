"""A canvas drawn in steps (DRAW): ``canvas_steps(n)``."""

from __future__ import annotations

import argparse
from typing import Any

from torch import Tensor

from ganarium.capabilities import Capability, Control, DrawContext, register_capability
from ganarium.capabilities._probe import assert_grid

MOST_ROWS = 8  # canvases drawn by `ganarium sample --steps`


class Canvas:
    """Mixin: a recipe offers canvas_steps(n) shows the canvas after each drawing step."""

    def canvas_steps(self, n: int) -> tuple[Tensor, int]:
        """n samples drawn step by step: (n * T images, T), each row one sample's canvas."""
        raise NotImplementedError


@register_capability
class CanvasCapability(Capability):
    name = "canvas"
    mixin = Canvas
    empty = False
    doc = "canvas_steps(n) shows the canvas after each drawing step"
    control = Control("checkbox", "show each drawing step", default=False)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--steps", action="store_true", help="the canvas after each drawing step (DRAW)"
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return bool(args.steps)

    def flag(self) -> str:
        return "--steps"

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        return recipe.canvas_steps(min(ctx.n, MOST_ROWS))

    def probe(self, recipe: Any) -> None:
        images, steps = recipe.canvas_steps(2)
        assert_grid((images, steps), recipe, "canvas_steps(2)")
        assert len(images) == 2 * steps, f"canvas_steps(2): {len(images)} images, {steps} steps"
