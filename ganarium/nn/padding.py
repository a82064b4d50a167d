"""Padding images to the size a fully convolutional net needs, and cropping the result back.

A U-Net with d downsamplings needs sides divisible by 2**d; a translator that upsamples by s
returns s times the padded size. ``run_padded`` pads any (N, C, H, W) input (reflection where the
image is large enough, else edge replication), runs the net and crops its output back to the
input's size times the net's scale, so trained translators take images of any size.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor
from torch.nn import functional as F


def padding_for(height: int, width: int, multiple: int, minimum: int = 1) -> tuple[int, int]:
    """(extra rows, extra columns) that make both sides multiples of ``multiple`` and at least
    ``minimum``."""

    def side(n: int) -> int:
        target = max(n, minimum)
        return -(-target // multiple) * multiple - n

    return side(height), side(width)


def pad_to_multiple(x: Tensor, multiple: int, minimum: int = 1) -> tuple[Tensor, tuple[int, int]]:
    """Pad (N, C, H, W) on the bottom and right so H and W are multiples of ``multiple`` (and at
    least ``minimum``): reflection when each pad is smaller than the side, else replication.
    Returns (padded, (H, W)) with the original size."""
    h, w = x.shape[-2:]
    dh, dw = padding_for(h, w, multiple, minimum)
    if dh == 0 and dw == 0:
        return x, (h, w)
    mode = "reflect" if dh < h and dw < w else "replicate"
    return F.pad(x, (0, dw, 0, dh), mode=mode), (h, w)


def crop_to(x: Tensor, height: int, width: int) -> Tensor:
    """The top-left (height, width) of (N, C, H, W)."""
    return x[..., :height, :width]


def run_padded(
    net: Callable[[Tensor], Tensor], x: Tensor, multiple: int, scale: int = 1, minimum: int = 1
) -> Tensor:
    """``net(x)`` for x of any size: pad to ``multiple`` (and ``minimum``), run, and crop the
    output to (H * scale, W * scale)."""
    padded, (h, w) = pad_to_multiple(x, multiple, minimum)
    return crop_to(net(padded), h * scale, w * scale)
