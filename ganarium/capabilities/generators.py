"""Several generators (MAD-GAN): ``generate(n, generator=)`` picks each sample's generator."""

from __future__ import annotations

import argparse
from typing import Any

import torch

from ganarium.capabilities import (
    Capability,
    CapabilityError,
    Control,
    Sampling,
    register_capability,
)
from ganarium.capabilities._probe import assert_samples


class Generators:
    """Mixin: a recipe of K generators; generate(n, generator=) takes each sample's (n,)."""

    def generator_count(self) -> int:
        raise NotImplementedError


@register_capability
class GeneratorsCapability(Capability):
    name = "generators"
    mixin = Generators
    empty = 0
    doc = "K generators: generate(n, generator=) picks each sample's"
    control = Control("number", "generator", low=0, step=1, default=0)
    grid = False  # it changes plain sampling

    def value(self, recipe: Generators) -> object:
        return int(recipe.generator_count())

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--generator", type=int, help="draw from this generator only (MAD-GAN)")

    def asked(self, args: argparse.Namespace) -> bool:
        return args.generator is not None

    def flag(self) -> str:
        return "--generator"

    def modify(self, recipe: Any, args: argparse.Namespace, plan: Sampling) -> None:
        recipe.require(self.name, self.flag())
        k = recipe.capabilities().generators
        if not 0 <= args.generator < k:
            raise CapabilityError(f"--generator {args.generator} is out of range: 0..{k - 1}")
        plan.kwargs["generator"] = torch.full((plan.n,), args.generator, dtype=torch.long)

    def probe(self, recipe: Any) -> None:
        k = recipe.capabilities().generators
        which = torch.tensor([0, k - 1, 0])
        with torch.no_grad():
            out = recipe.generate(3, generator=which)
        assert_samples(out, recipe, 3, "generate(3, generator=)")
