"""Instance conditioning (IC-GAN): ``generate_from_instances(images, n)``."""

from __future__ import annotations

import argparse
from pathlib import Path
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
from ganarium.capabilities._probe import assert_samples, real_like, square_row


class Instances:
    """Mixin: a recipe offers generate_from_instances(images, n)."""

    def generate_from_instances(self, images: Tensor, n: int) -> Tensor:
        """n samples per conditioning image (B, C, H, W) -> (B * n, ...), grouped by image."""
        raise NotImplementedError


@register_capability
class InstancesCapability(Capability):
    name = "instances"
    mixin = Instances
    empty = False
    doc = "generate_from_instances(images, n)"
    control = Control("image", "instance to condition on")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--instance",
            metavar="IMAGE",
            help="condition on this image's instance features (IC-GAN)",
        )

    def asked(self, args: argparse.Namespace) -> bool:
        return args.instance is not None

    def flag(self) -> str:
        return "--instance"

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        from ganarium.data.folder import read_image

        path = Path(args.instance).expanduser()
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise CapabilityError(f"--instance {path} {what}: pass an existing file")
        c, h, _ = recipe.info.shape
        image = read_image(path, h, c)
        return recipe.generate_from_instances(image[None], ctx.n), square_row(ctx.n)

    def probe(self, recipe: Any) -> None:
        with torch.no_grad():
            out = recipe.generate_from_instances(real_like(recipe, 2), 3)
        assert_samples(out, recipe, 6, "generate_from_instances(2 images, 3)")
