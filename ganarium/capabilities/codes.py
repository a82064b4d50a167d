"""Latent codes (InfoGAN): ``code_traversal(code)`` draws a grid varying one code."""

from __future__ import annotations

import argparse
from typing import Any

from torch import Tensor

from ganarium.capabilities import Capability, Control, DrawContext, register_capability
from ganarium.capabilities._probe import assert_grid


class Codes:
    """Mixin: a recipe offers code_traversal(code) varies one latent code."""

    def code_names(self) -> tuple[str, ...]:
        return self.latent.code_names()

    def code_traversal(self, code: str, steps: int = 10) -> tuple[Tensor, int]:
        """A grid varying ``code`` along each row: (images, images per row)."""
        raise NotImplementedError


@register_capability
class CodesCapability(Capability):
    name = "codes"
    mixin = Codes
    empty = ()
    doc = "code_traversal(code) varies one latent code"
    control = Control("dropdown", "latent code to vary", choices="codes")

    def value(self, recipe: Codes) -> object:
        return tuple(recipe.code_names())

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--vary-code", metavar="CODE", help="latent code traversal grid (InfoGAN), e.g. c1"
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return args.vary_code is not None

    def flag(self) -> str:
        return "--vary-code"

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        return recipe.code_traversal(args.vary_code)

    def probe(self, recipe: Any) -> None:
        codes = recipe.capabilities().codes
        assert codes and all(isinstance(c, str) and c for c in codes), f"code names {codes!r}"
        for code in codes:
            assert_grid(recipe.code_traversal(code, steps=2), recipe, f"code_traversal({code!r})")
