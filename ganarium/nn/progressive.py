"""Progressive growing (Karras et al. 2018, "Progressive Growing of GANs", Sec. 2): resolution
levels added one at a time, each faded in smoothly. While level l fades in, the output is
(1 - alpha) * (the old level's output, upsampled) + alpha * (the new level's output), alpha going
0 -> 1 linearly over the fade; then the level trains alone ("stabilises") before the next.

``GrowthSchedule`` maps a training step to (level, alpha); it is a pure function of the step,
so a resumed run continues at the same stage without any extra state. ``FusedUpConv`` and
``FusedDownConv`` are the authors' fused resampling convolutions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from ganarium.nn.style import EqualizedConv2d


def fade_in(old: Tensor, new: Tensor, alpha: float | Tensor) -> Tensor:
    """(1 - alpha) old + alpha new: the old resolution's output at alpha 0, the new one's at 1."""
    if isinstance(alpha, float) and alpha in (0.0, 1.0):  # exactly one of them, no blend
        return new if alpha == 1.0 else old
    return old + alpha * (new - old)


@dataclass(frozen=True)
class GrowthSchedule:
    """Level 0 trains for ``stable_steps``; every later level fades in over ``fade_steps`` and
    then trains alone for ``stable_steps``; the last level (``levels - 1``) stays to the end."""

    levels: int
    fade_steps: int
    stable_steps: int

    def at(self, step: int) -> tuple[int, float]:
        """(level, alpha) at ``step``: alpha in [0, 1) while fading in, 1.0 otherwise."""
        if step < self.stable_steps or self.levels == 1:
            return 0, 1.0
        period = self.fade_steps + self.stable_steps
        level, into = divmod(step - self.stable_steps, period)
        level += 1
        if level >= self.levels:
            return self.levels - 1, 1.0
        alpha = into / self.fade_steps if into < self.fade_steps else 1.0
        return level, float(alpha)

    def final_step(self) -> int:
        """The first step at which the last level trains alone (alpha 1)."""
        if self.levels == 1:
            return 0
        period = self.fade_steps + self.stable_steps
        return self.stable_steps + (self.levels - 2) * period + self.fade_steps


def _summed_kernel(weight: Tensor) -> Tensor:
    """(out, in, 3, 3) -> (out, in, 4, 4): the kernel padded by one and summed over its four
    one-pixel shifts, so that one stride-2 pass does the work of a 2x2 resampling and the 3x3."""
    w = F.pad(weight, (1, 1, 1, 1))
    return w[..., 1:, 1:] + w[..., :-1, 1:] + w[..., 1:, :-1] + w[..., :-1, :-1]


class FusedUpConv(EqualizedConv2d):
    """Nearest x2 upsampling and the 3x3 equalized conv as one stride-2 transposed 4x4 conv (the
    authors' fused upscale; same parameters and function as ``EqualizedConv2d`` after nearest
    upsampling; the transposed conv reads the kernel flipped). (B, in, H, W) -> 2H x 2W."""

    def forward(self, x: Tensor) -> Tensor:
        w = _summed_kernel(self.weight.flip(2, 3) * self.scale)
        return F.conv_transpose2d(x, w.transpose(0, 1), self.bias, stride=2, padding=1)


class FusedDownConv(EqualizedConv2d):
    """The 3x3 equalized conv and 2x2 average pooling as one stride-2 4x4 conv (the authors'
    fused downscale). (B, in, H, W) -> (B, out, H/2, W/2)."""

    def forward(self, x: Tensor) -> Tensor:
        w = _summed_kernel(self.weight * self.scale) * 0.25
        return F.conv2d(x, w, self.bias, stride=2, padding=1)


def doubling_sizes(first: int, last: int) -> list[int] | None:
    """The sides ``first``, 2 ``first``, 4 ``first``, ..., ``last`` of a pyramid of levels (a
    growing net's, a Laplacian pyramid's), coarse to fine; None when ``last`` is not ``first``
    times a power of 2."""
    sizes = [first]
    while sizes[-1] < last:
        sizes.append(2 * sizes[-1])
    return sizes if sizes[-1] == last else None
