"""The U-Net discriminator (Schönfeld et al. 2020, "A U-Net Based Discriminator for Generative
Adversarial Networks", Sec. 3.1): a residual encoder whose bottleneck gives the usual global
real/fake logit, and a decoder with skip connections that gives one logit per pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nets import Discriminator, check_image, upsampling_plan
from ganarium.nn.norms import check_norm, sn
from ganarium.nn.unet_blocks import UNetDown, UNetUp


class UNetDiscriminator(Discriminator):
    """x (B, C, R, R) -> global logit (B,) [+ projection] and per-pixel logits (B, 1, R, R).

    ``forward`` gives the global logit only (the base contract); ``forward_both`` gives both
    from one pass through the encoder.
    """

    def __init__(
        self, info: DataInfo, width: int = 64, norm: str = "spectral", cond: str = "none"
    ) -> None:
        check_image(info, "unet-d")
        if cond == "concat":
            raise ConfigError("the U-Net discriminator supports cond=none or projection")
        spectral = check_norm(norm) == "spectral"
        _, k = upsampling_plan(info.resolution)
        chans = [width * 2**i for i in range(k)]
        super().__init__(chans[-1], info.num_classes, cond, spectral)  # type: ignore[arg-type]
        self.down = nn.ModuleList()
        c_prev = info.channels
        for i, c in enumerate(chans):
            self.down.append(UNetDown(c_prev, c, spectral, downsample=True, first=i == 0))
            c_prev = c
        # decoder: back up through every encoder resolution; skips from the encoder outputs of
        # the matching size (none at full resolution)
        self.up = nn.ModuleList()
        skips = list(reversed(chans[:-1])) + [0]
        for c_skip in skips:
            c_out = max(c_skip, width)
            self.up.append(UNetUp(c_prev, c_skip, c_out, spectral))
            c_prev = c_out
        self.pixel_head = sn(nn.Conv2d(c_prev, 1, 1), spectral)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        return x, skips

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return F.relu(self.encode(x)[0]).sum(dim=(2, 3))

    def forward_both(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(global logits (B,), per-pixel logits (B, 1, R, R))."""
        h, skips = self.encode(x)
        feats = F.relu(h).sum(dim=(2, 3))
        out = self.head(feats).squeeze(1)
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator uses projection: pass labels y")
            out = out + (self.embed(y) * feats).sum(1)
        d = h
        for up, skip in zip(self.up, list(reversed(skips[:-1])) + [None]):
            d = up(d, skip)
        return out, self.pixel_head(F.relu(d))
