"""Encoder/decoder blocks of a U-Net discriminator (Schönfeld et al. 2020, "A U-Net Based
Discriminator for Generative Adversarial Networks", Sec. 3.1): the encoder is the usual residual
downsampling stack; each decoder block upsamples and concatenates the encoder's feature map of
the same resolution (the skip connection) before a residual block."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.nn.norms import sn
from ganarium.nn.resblocks import ResBlockDown


class UNetDown(ResBlockDown):
    """An encoder block, (B, Ci, H, W) -> (B, Co, H/2, W/2); its output is also a decoder skip."""


class UNetUp(nn.Module):
    """(B, Ci, H, W), skip (B, Cs, 2H, 2W) -> (B, Co, 2H, 2W).

    ReLU-conv3-ReLU-conv3 on [up(x), skip] plus a 1x1 shortcut of the same concatenation.
    """

    def __init__(self, c_in: int, c_skip: int, c_out: int, spectral: bool = True) -> None:
        super().__init__()
        c_cat = c_in + c_skip
        self.conv1 = sn(nn.Conv2d(c_cat, c_out, 3, padding=1), spectral)
        self.conv2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1), spectral)
        self.skip = sn(nn.Conv2d(c_cat, c_out, 1), spectral)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], 1)
        h = self.conv2(F.relu(self.conv1(F.relu(x))))
        return h + self.skip(x)
