"""DCGAN nets (Radford et al. 2016): strided (transposed) 4x4 convs, BN, ReLU / LeakyReLU(0.2).

The same critic with norm='spectral' is the DCGAN-sized SNGAN discriminator, and with
norm='layer' the WGAN-GP critic.
"""

from __future__ import annotations

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import check_norm, feature_norm, sn


class DCGANGenerator(Generator):
    """z (B, z_dim) -> (B, C, R, R) in [-1, 1]. Channels halve at each doubling; ``width`` at the last."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 100,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode = "concat",
    ) -> None:
        check_image(info, "dcgan")
        super().__init__(z_dim, info.num_classes, cond)
        r0, k = upsampling_plan(info.resolution)
        norm = "none" if norm == "spectral" else check_norm(norm)
        c = width * 2 ** (k - 1)
        self.stem = nn.Sequential(
            nn.ConvTranspose2d(self.latent.out_dim, c, r0, 1, 0, bias=norm == "none"),
            feature_norm(norm, c),
            nn.ReLU(True),
        )
        layers: list[nn.Module] = []
        for _ in range(k - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=norm == "none"),
                feature_norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ConvTranspose2d(c, info.channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.latent(z, y)
        return self.body(self.stem(h[:, :, None, None]))


class DCGANDiscriminator(Discriminator):
    """(B, C, R, R) -> features (B, width*2**(k-1) * r0 * r0) -> logit (B,)."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "batch",
        cond: str = "none",
        slope: float = 0.2,
    ) -> None:
        check_image(info, "dcgan")
        r0, k = upsampling_plan(info.resolution)
        c_last = width * 2 ** (k - 1)
        spectral = check_norm(norm) == "spectral"
        super().__init__(c_last * r0 * r0, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        c_in = self.input_channels(info.channels, info.num_classes, self.cond)
        layers: list[nn.Module] = [
            sn(nn.Conv2d(c_in, width, 4, 2, 1), spectral),
            nn.LeakyReLU(slope, True),
        ]
        c = width
        for _ in range(k - 1):
            layers += [
                sn(nn.Conv2d(c, c * 2, 4, 2, 1, bias=norm in ("none", "spectral")), spectral),
                feature_norm(norm, c * 2),
                nn.LeakyReLU(slope, True),
            ]
            c *= 2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)


NETS.add(
    "dcgan",
    NetFamily(DCGANGenerator, DCGANDiscriminator, "DCGAN strided conv nets (Radford et al. 2016)"),
)
