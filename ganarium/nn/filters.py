"""The low-pass FIR filter the style-based GANs resample with (Karras et al. 2019, Sec. 2 and
App. C; after Zhang 2019, "Making Convolutional Networks Shift-Invariant Again"): a separable
[1, 3, 3, 1] binomial kernel normalised to sum 1, applied as a blur, after zero-insertion
upsampling (kernel x 4, so brightness is kept) and before stride-2 downsampling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BINOMIAL = (1.0, 3.0, 3.0, 1.0)


def fir_kernel(taps: tuple[float, ...] = BINOMIAL) -> Tensor:
    """The separable 2-D kernel outer(taps, taps) / sum: (K, K), summing to 1."""
    k = torch.tensor(taps, dtype=torch.float32)
    k2 = torch.outer(k, k)
    return k2 / k2.sum()


def _depthwise(x: Tensor, kernel: Tensor, pad: tuple[int, int], stride: int = 1) -> Tensor:
    """Filter each channel of x (B, C, H, W) with ``kernel`` after padding ``pad`` = (before,
    after) on both spatial axes with zeros."""
    c = x.shape[1]
    weight = kernel.to(x.dtype).expand(c, 1, *kernel.shape)
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    return F.conv2d(x, weight, stride=stride, groups=c)


def blur(x: Tensor, kernel: Tensor) -> Tensor:
    """Low-pass x (B, C, H, W) keeping its size (a constant image stays constant inside)."""
    k = kernel.shape[-1]
    return _depthwise(x, kernel, ((k - 1) // 2 + (k - 1) % 2, (k - 1) // 2))


def upsample2d(x: Tensor, kernel: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, 2H, 2W): zero insertion, then the kernel times 4."""
    b, c, h, w = x.shape
    up = x.new_zeros(b, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = x
    k = kernel.shape[-1]
    return _depthwise(up, kernel * 4, (k // 2, k // 2 - 1))


def downsample2d(x: Tensor, kernel: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, H/2, W/2): the kernel, then every second pixel."""
    k = kernel.shape[-1]
    return _depthwise(x, kernel, ((k - 2) // 2, (k - 2) // 2), stride=2)


class Blur(nn.Module):
    """``blur`` as a layer holding its kernel (a buffer, so it follows ``.to(device)``)."""

    def __init__(self, taps: tuple[float, ...] = BINOMIAL) -> None:
        super().__init__()
        self.register_buffer("kernel", fir_kernel(taps), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return blur(x, self.kernel)


class Upsample(Blur):
    """``upsample2d`` as a layer: x2 in each spatial axis."""

    def forward(self, x: Tensor) -> Tensor:
        return upsample2d(x, self.kernel)


class Downsample(Blur):
    """``downsample2d`` as a layer: /2 in each spatial axis."""

    def forward(self, x: Tensor) -> Tensor:
        return downsample2d(x, self.kernel)
