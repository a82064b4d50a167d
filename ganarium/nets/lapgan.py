"""LAPGAN's nets (Denton et al. 2015, "Deep Generative Image Models using a Laplacian Pyramid of
Adversarial Networks", Sec. 3-4): at each pyramid level above the coarsest, a conditional
generator G_k(z_k, l_k) that draws the band-pass residual h_k of its resolution given the
upsampled coarser image l_k (noise entering as an extra input plane, as in the paper's CIFAR
and LSUN models), and a discriminator D_k(h_k, l_k) that sees the residual next to its
condition. The coarsest level is a plain GAN (any image net family)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def downsample(x: Tensor) -> Tensor:
    """d(.): the image at half the resolution (2x2 averages)."""
    return F.avg_pool2d(x, 2)


def upsample(x: Tensor) -> Tensor:
    """u(.): the image at twice the resolution (bilinear)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class ResidualGenerator(nn.Module):
    """(noise plane (B, 1, R, R), l (B, C, R, R)) -> residual h (B, C, R, R), linear output:
    three conv3x3 (batch norm and ReLU after the first two), as the paper's CIFAR levels."""

    def __init__(self, channels: int, width: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels + 1, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            nn.Conv2d(width, channels, 3, 1, 1),
        )

    def forward(self, noise: Tensor, low: Tensor) -> Tensor:
        return self.net(torch.cat([low, noise], 1))


class ResidualDiscriminator(nn.Module):
    """(h, l) each (B, C, R, R) -> logits (B,): two stride-2 conv4x4 with leaky ReLU, a dense
    layer on the flattened features."""

    def __init__(self, channels: int, resolution: int, width: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2 * channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Flatten(),
            nn.Linear(2 * width * (resolution // 4) ** 2, 1),
        )

    def forward(self, pair: Tensor) -> Tensor:
        """``pair``: cat([h, l], 1), so one augmentation transforms both alike."""
        return self.net(pair).squeeze(1)
