"""The truncation trick: ``generate(n, truncation=)`` (BigGAN: a threshold; style GANs: psi)."""

from __future__ import annotations

import argparse
import math
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


class Truncation:
    """Mixin: a recipe offers generate(n, truncation=) applies a truncation trick."""


@register_capability
class TruncationCapability(Capability):
    name = "truncation"
    mixin = Truncation
    empty = False
    doc = "generate(n, truncation=) applies a truncation trick"
    control = Control("slider", "truncation", low=0.05, high=2.0, step=0.05, default=1.0)
    grid = False  # it changes plain sampling

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--truncation",
            type=float,
            help="truncation trick (BigGAN: threshold; style GANs: psi)",
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return args.truncation is not None

    def flag(self) -> str:
        return "--truncation"

    def check_args(self, args: argparse.Namespace) -> None:
        if not math.isfinite(args.truncation) or args.truncation <= 0:
            raise CapabilityError(f"--truncation {args.truncation} must be a positive number")

    def modify(self, recipe: Any, args: argparse.Namespace, plan: Sampling) -> None:
        recipe.require(self.name, self.flag())
        plan.kwargs["truncation"] = args.truncation

    def probe(self, recipe: Any) -> None:
        with torch.no_grad():
            torch.manual_seed(0)
            plain = recipe.generate(3)
            torch.manual_seed(0)
            truncated = recipe.generate(3, truncation=0.5)
        assert_samples(truncated, recipe, 3, "generate(3, truncation=0.5)")
        assert not torch.allclose(plain, truncated), "truncation=0.5 changed nothing"
