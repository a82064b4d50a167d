"""Residual up/down blocks of the ResNet GANs (Miyato et al. 2018; Brock et al. 2019).

Generator blocks normalise with a layer made by ``make_norm(channels)``; a conditional norm
(``.conditional = True``, e.g. conditional BN) receives the block's condition ``cond``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.nn.norms import apply_norm, sn


class ResBlockUp(nn.Module):
    """norm-ReLU-up-conv3-norm-ReLU-conv3, plus an upsampled 1x1 shortcut. (B,Ci,H,W)->(B,Co,2H,2W)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        make_norm: Callable[[int], nn.Module],
        spectral: bool = False,
        upsample: bool = True,
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.norm1, self.norm2 = make_norm(c_in), make_norm(c_out)
        self.conv1 = sn(nn.Conv2d(c_in, c_out, 3, padding=1), spectral)
        self.conv2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1), spectral)
        self.skip = sn(nn.Conv2d(c_in, c_out, 1), spectral) if c_in != c_out or upsample else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(apply_norm(self.norm1, x, cond))
        if self.upsample:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv1(h)
        h = self.conv2(F.relu(apply_norm(self.norm2, h, cond)))
        return h + (self.skip(x) if self.skip is not None else x)


class ResBlockDown(nn.Module):
    """ReLU-conv3-ReLU-conv3-avgpool plus a 1x1 shortcut; ``first`` skips the leading ReLU
    (the 'optimized' first block of SNGAN). (B,Ci,H,W)->(B,Co,H/2,W/2) when ``downsample``."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        spectral: bool = True,
        downsample: bool = True,
        first: bool = False,
    ) -> None:
        super().__init__()
        self.downsample, self.first = downsample, first
        self.conv1 = sn(nn.Conv2d(c_in, c_out, 3, padding=1), spectral)
        self.conv2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1), spectral)
        self.skip = sn(nn.Conv2d(c_in, c_out, 1), spectral) if c_in != c_out or downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.first and self.downsample:  # pool before the 1x1 conv: cheaper, same function
            s = F.avg_pool2d(s, 2)
            return h + (self.skip(s) if self.skip is not None else s)
        if self.skip is not None:
            s = self.skip(s)
        if self.downsample:
            s = F.avg_pool2d(s, 2)
        return h + s
