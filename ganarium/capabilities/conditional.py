"""Conditional sampling: ``generate(n, labels=)`` draws the requested classes."""

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
from ganarium.capabilities._probe import assert_samples, square_row


class Conditional:
    """Mixin: a recipe offers generate(n, labels=) draws the requested classes."""

    def is_conditional(self) -> bool:
        """Whether this instance was built to take labels (a recipe may make it optional)."""
        return True


@register_capability
class ConditionalCapability(Capability):
    name = "conditional"
    mixin = Conditional
    empty = False
    doc = "generate(n, labels=) draws the requested classes"
    control = Control("number", "class", low=0, step=1, default=0)
    grid = False  # labels change plain sampling (a folder or .npz of one class works too)

    def value(self, recipe: Conditional) -> object:
        return bool(recipe.is_conditional())

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--label", type=int, help="class to generate (conditional recipes)")
        parser.add_argument("--grid-by-class", action="store_true", help="one row per class")

    def asked(self, args: argparse.Namespace) -> bool:
        return args.label is not None or bool(args.grid_by_class)

    def flag(self) -> str:
        return "--label"

    def modify(self, recipe: Any, args: argparse.Namespace, plan: Sampling) -> None:
        if not recipe.capabilities().conditional:
            raise CapabilityError(
                f"recipe {recipe.name!r} was not trained with labels: drop --label/--grid-by-class"
            )
        k = recipe.info.num_classes
        if args.grid_by_class:
            per = max(1, plan.n // k)
            plan.kwargs["labels"] = torch.arange(k).repeat_interleave(per)
            plan.n, plan.nrow = k * per, per
            return
        if not 0 <= args.label < k:
            raise CapabilityError(
                f"--label {args.label} is out of range: the data has classes 0..{k - 1}"
            )
        plan.kwargs["labels"] = torch.full((plan.n,), args.label, dtype=torch.long)
        plan.nrow = square_row(plan.n)

    def probe(self, recipe: Any) -> None:
        k = recipe.info.num_classes
        assert k >= 2, f"a conditional recipe on data with {k} classes"
        labels = torch.tensor([0, 1, 1], device=recipe.device)
        with torch.no_grad():
            out = recipe.generate(3, labels=labels)
        assert_samples(out, recipe, 3, "generate(3, labels=)")
