"""Text to image (StackGAN): ``generate_from_captions(texts)``; ``caption_vocabulary()`` lists
the words it knows."""

from __future__ import annotations

import argparse
from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, Control, DrawContext, register_capability
from ganarium.capabilities._probe import assert_samples, square_row


class Captions:
    """Mixin: a recipe offers generate_from_captions(texts)."""

    def caption_vocabulary(self) -> list[str]:
        raise NotImplementedError

    def generate_from_captions(self, captions: list[str]) -> Tensor:
        """One image per caption; unknown words raise one line listing the vocabulary."""
        raise NotImplementedError


@register_capability
class CaptionsCapability(Capability):
    name = "captions"
    mixin = Captions
    empty = False
    doc = "generate_from_captions(texts)"
    control = Control("text", "caption", default="")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--caption", help='text to draw, e.g. "a thick 7 leaning right" (StackGAN)'
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return args.caption is not None

    def flag(self) -> str:
        return "--caption"

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        return recipe.generate_from_captions([args.caption] * ctx.n), square_row(ctx.n)

    def probe(self, recipe: Any) -> None:
        words = recipe.caption_vocabulary()
        assert words and all(isinstance(w, str) and w for w in words), "an empty vocabulary"
        with torch.no_grad():
            out = recipe.generate_from_captions([" ".join(words[:3]), words[-1]])
        assert_samples(out, recipe, 2, "generate_from_captions")
