"""A latent: ``recipe.latent`` (a LatentSpec) is what ``generate(n, z=)`` and ``decode(z)`` take;
``interpolate(steps)`` walks between two latents."""

from __future__ import annotations

import argparse
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
from ganarium.capabilities._probe import assert_samples
from ganarium.latent import LatentSpec, slerp


class Latent:
    """Mixin: a recipe offers a latent z: decode(z) and interpolate(steps)."""

    latent: LatentSpec

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The sampling generator as a differentiable function of its latent (for inversion)."""
        raise NotImplementedError

    def interpolate(self, steps: int = 8, seeds: tuple[int, int] = (0, 1)) -> Tensor:
        """``steps`` samples along the spherical path between two latents drawn from ``seeds``
        (``decode`` at each point); recipes with a better space (StyleGAN's W) override it."""
        a, b = (self.latent.sample(1, "cpu", torch.Generator().manual_seed(s)) for s in seeds)
        t = torch.linspace(0, 1, steps)[:, None]
        with torch.no_grad():
            return self.decode(slerp(a, b, t).to(self.device))


@register_capability
class LatentCapability(Capability):
    name = "latent_dim"
    mixin = Latent
    empty = 0
    doc = "a latent z: decode(z) and interpolate(steps)"
    control = Control("slider", "latent walk: images", low=2, high=16, step=1, default=8)

    def value(self, recipe: Latent) -> object:
        return int(recipe.latent.dim)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--interpolate", type=int, metavar="STEPS", help="a latent walk of STEPS images"
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return args.interpolate is not None

    def flag(self) -> str:
        return "--interpolate"

    def check_args(self, args: argparse.Namespace) -> None:
        if args.interpolate < 2:
            raise CapabilityError(f"--interpolate {args.interpolate} must be at least 2 steps")

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        return recipe.interpolate(args.interpolate, (ctx.seed, ctx.seed + 1)), args.interpolate

    def probe(self, recipe: Any) -> None:
        dim = recipe.capabilities().latent_dim
        z = torch.randn(3, dim, device=recipe.device, requires_grad=True)
        out = recipe.decode(z)
        assert_samples(out, recipe, 3, "decode(z)", in_range=False)
        out.sum().backward()  # differentiable in z, for inversion
        assert z.grad is not None and z.grad.abs().sum() > 0, "decode(z) is not differentiable in z"
        if not recipe.capabilities().codes:  # with no codes drawn beside z, generate(z=) is decode
            with torch.no_grad():
                torch.testing.assert_close(recipe.generate(3, z=z.detach()), recipe.decode(z))
        walk = recipe.interpolate(4)
        assert_samples(walk, recipe, 4, "interpolate(4)", in_range=False)
