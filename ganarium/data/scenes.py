"""`instance-scenes`: InstaGAN's kind of data, made offline: canvases holding several objects,
each with its own instance mask, in two domains that differ only in the objects' kind.

Domain A's instances are squares, domain B's discs of the same area; each scene holds 1 to
``instances`` of them (one mask per instance, in {0, 1}, empty masks padding the rest) and, with
probability 1/2, one unmasked distractor, a square or a disc alike in both domains, all on a
smooth random colour field, every object its own random bright colour. The domains differ in
the masked instances alone, so translating "only the instances" means: turn each masked square
into a disc of its colour and place, and leave every pixel away from the masks (the field and
the distractor, which may well be a square) as it was, which ``checks/instances.py`` measures;
a translator blind to the masks cannot tell which squares to turn.

Batches: ``{"image": A scene, "mask": A's instance masks (K, S, S), "image_b": B scene,
"mask_b": B's masks}``, the sides drawn independently (``data.unpaired``); shapes as for the
other two-domain data (``shape`` the B side, ``shape_a`` the A side), with
``instances`` = K and ``kinds`` = ("square", "disc") in its DataInfo.
"""

from __future__ import annotations

import colorsys
import math
from functools import lru_cache
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.data import DATASETS, DataInfo
from ganarium.data.unpaired import UnpairedTensors
from ganarium.errors import DataError

KINDS = ("square", "disc")
SUPERSAMPLE = 4
COUNTS = {"train": 2000, "test": 300}


def shape_coverage(kind: str, cy: float, cx: float, side: float, size: int) -> Tensor:
    """(size, size) coverage in [0, 1] of a square of ``side`` px, or a disc of the same area,
    centred at (cy, cx) in pixels (supersampled edges)."""
    n = size * SUPERSAMPLE
    t = (torch.arange(n) + 0.5) / SUPERSAMPLE
    y, x = t[:, None], t[None, :]
    if kind == "square":
        inside = ((y - cy).abs() <= side / 2) & ((x - cx).abs() <= side / 2)
    else:
        radius = side / math.sqrt(math.pi)
        inside = (y - cy) ** 2 + (x - cx) ** 2 <= radius**2
    return F.avg_pool2d(inside.float()[None, None], SUPERSAMPLE)[0, 0]


def colour_field(size: int, g: torch.Generator) -> Tensor:
    """A smooth (3, size, size) background in [0.1, 0.55]: 3x3 random colours, bilinear."""
    corners = 0.1 + 0.45 * torch.rand(1, 3, 3, 3, generator=g)
    return F.interpolate(corners, size=(size, size), mode="bilinear", align_corners=True)[0]


def bright_colour(g: torch.Generator) -> Tensor:
    hue = float(torch.rand((), generator=g))
    return torch.tensor(colorsys.hsv_to_rgb(hue, 0.8, 1.0))


def place(count: int, side: float, size: int, g: torch.Generator) -> list[tuple[float, float]]:
    """``count`` object centres inside the canvas, no two objects closer than a gap of 2 px."""
    lo, hi = side / 2 + 1, size - side / 2 - 1
    for _ in range(1000):
        pts = [
            (
                lo + (hi - lo) * float(torch.rand((), generator=g)),
                lo + (hi - lo) * float(torch.rand((), generator=g)),
            )
            for _ in range(count)
        ]
        ok = all(
            max(abs(p[0] - q[0]), abs(p[1] - q[1])) >= side + 2
            for i, p in enumerate(pts)
            for q in pts[:i]
        )
        if ok:
            return pts
    raise DataError(
        f"cannot place {count} objects of {side} px on a {size} px canvas: use a larger size"
    )


def render_scenes(
    n: int, kind: int, size: int, instances: int, side: float, g: torch.Generator
) -> tuple[Tensor, Tensor]:
    """n scenes of ``KINDS[kind]`` instances: images (n, 3, size, size) in [-1, 1] and instance
    masks (n, instances, size, size) in {0, 1}."""
    images, masks = torch.empty(n, 3, size, size), torch.zeros(n, instances, size, size)
    for i in range(n):
        count = 1 + int(torch.randint(0, instances, (), generator=g))
        distractor = bool(torch.rand((), generator=g) < 0.5)
        centres = place(count + distractor, side, size, g)
        img = colour_field(size, g)
        other = int(torch.randint(0, 2, (), generator=g))  # the distractor's kind
        for j, (cy, cx) in enumerate(centres):
            is_instance = j < count
            cov = shape_coverage(KINDS[kind if is_instance else other], cy, cx, side, size)
            img = img * (1 - cov) + bright_colour(g)[:, None, None] * cov
            if is_instance:
                masks[i, j] = (cov >= 0.5).float()
        images[i] = img
    return images.mul(2).sub(1), masks


@lru_cache(maxsize=4)
def _scenes(split: str, size: int, instances: int, side: float, seed: int) -> tuple[Tensor, ...]:
    """(A images, A masks, B images, B masks) of a split, rendered once per process."""
    g = torch.Generator().manual_seed(seed * 7919 + (split == "test"))
    a, mask_a = render_scenes(COUNTS[split], 0, size, instances, side, g)
    b, mask_b = render_scenes(COUNTS[split], 1, size, instances, side, g)
    return a, mask_a, b, mask_b


@DATASETS.register(
    "instance-scenes",
    description="scenes of squares (A) / discs (B) with one mask per instance, for InstaGAN",
    splits=("train", "test"),
)
def instance_scenes(
    split: Literal["train", "test"] = "train",
    size: int = 24,
    instances: int = 2,
    side: float = 7.0,
    seed: int = 0,
) -> UnpairedTensors:
    """A: scenes of 1..``instances`` squares of ``side`` px; B: the same of discs; both
    (3, size, size) with (instances, size, size) masks."""
    if split not in COUNTS:
        raise DataError(f"unknown split {split!r} for instance-scenes: use train or test")
    if not 16 <= size <= 64 or not 1 <= instances <= 4 or not 4 <= side <= size / 2:
        raise DataError(
            f"instance-scenes size={size}, instances={instances}, side={side}: use size 16..64, "
            "1..4 instances and a side between 4 and size/2"
        )
    a, mask_a, b, mask_b = _scenes(split, size, instances, float(side), seed)
    shape = (3, size, size)
    info = DataInfo(
        name="instance-scenes",
        shape=shape,
        shape_b=shape,
        shape_a=shape,
        instances=instances,
        kinds=KINDS,
        extractor="pixels",
        pairing="unpaired",
    )
    return UnpairedTensors(
        a, b, info, train=split == "train", extra_a={"mask": mask_a}, extra_b={"mask_b": mask_b}
    )
