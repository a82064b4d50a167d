"""Column previews: one row per example, its images side by side (a translator's input | output |
target, a pair of coupled samples, a sample and its reconstruction). Columns of gray, RGB and
other channel counts, and of different sizes, are shown alike in one grid."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

from ganarium.data.transforms import to_channels
from ganarium.recipe import Preview


def shown(x: Tensor, channels: int) -> Tensor:
    """(N, C, H, W) in [-1, 1] as a grid of ``channels`` (1 or 3) shows it: gray repeated to RGB,
    RGB reduced to luma; other counts (a one-hot label map) as the index of their largest
    channel, in gray."""
    c = x.shape[1]
    if c not in (1, 3):
        x = x.argmax(1, keepdim=True).to(x.dtype) * (2.0 / max(1, c - 1)) - 1
    return to_channels(x, channels)


def column_preview(columns: Sequence[Tensor]) -> Preview:
    """A preview whose row i holds ``column[i]`` of each column, in order. Every column is
    shown in colour when any is not gray, and at the largest height and width among them
    (nearest-neighbour); rows beyond the shortest column are dropped."""
    rows = min(len(c) for c in columns)
    channels = 3 if any(c.shape[1] != 1 for c in columns) else 1
    height = max(c.shape[-2] for c in columns)
    width = max(c.shape[-1] for c in columns)
    out = []
    for c in columns:
        c = shown(c[:rows].detach().float().cpu(), channels)
        if c.shape[-2:] != (height, width):
            c = F.interpolate(c, size=(height, width), mode="nearest")
        out.append(c)
    return Preview(torch.stack(out, 1).flatten(0, 1), len(columns))


def label_palette(n: int) -> Tensor:
    """``n`` distinct fixed RGB colours (n, 3) in [0, 1], class 0 black: the bits of a class id
    spread over the high bits of R, G and B in turn (the PASCAL VOC colour map's scheme)."""
    ids = torch.arange(n)
    rgb = torch.zeros(n, 3, dtype=torch.long)
    for bit in range(8):
        for channel in range(3):
            rgb[:, channel] |= ((ids >> (3 * bit + channel)) & 1) << (7 - bit)
    return rgb.float() / 255


def colour_labels(x: Tensor, classes: int | None = None) -> Tensor:
    """One-hot label maps (N, K, H, W), or (N, K + 1, H, W) with an instance-boundary channel
    last, as RGB images (N, 3, H, W) in [-1, 1]: each pixel in its class's ``label_palette``
    colour, boundaries in white. ``classes`` is K; None reads it from the maps: the last
    channel is a boundary map when the channels before it alone sum to 1 at every pixel."""
    c = x.shape[1]
    if classes is None:
        rest = x[:, :-1].sum(1)
        classes = c - 1 if c > 2 and bool(((rest - 1).abs() < 1e-3).all()) else c
    ids = x[:, :classes].argmax(1)
    out = label_palette(classes).to(x.device)[ids].permute(0, 3, 1, 2)
    if c > classes:
        out = torch.where(x[:, classes : classes + 1] > 0.5, torch.ones_like(out), out)
    return out * 2 - 1


def in_colour(x: Tensor) -> Tensor:
    """Images (1 or 3 channels) as they are; label maps (any other channel count) in colour
    (``colour_labels``), e.g. a translator's label-map inputs in its preview."""
    return x if x.shape[1] in (1, 3) else colour_labels(x)
