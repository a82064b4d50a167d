"""The InfoGAN paper's MNIST nets (Chen et al. 2016, Appendix C, Table 1), registered as
``infogan``: fully connected layers of 16 * width units (1024 at the paper's width 64) next to
DCGAN-style (transposed) convolutions.

G: FC 1024-BN-ReLU, FC r0*r0*2w-BN-ReLU, then 4x4 stride-2 up-convolutions halving the channels.
D: 4x4 stride-2 convolutions (64, 128 at width 64; BN after the first), FC 1024-BN-lReLU; the
1024 units are D's features, shared with InfoGAN's recognition head Q.
"""

from __future__ import annotations

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import check_norm, feature_norm, sn


def _fc_norm(norm: str, units: int) -> nn.Module:
    return nn.BatchNorm1d(units) if norm == "batch" else nn.Identity()


class InfoGANGenerator(Generator):
    """z (B, z_dim) -> (B, C, R, R) in [-1, 1]."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 74,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode = "concat",
    ) -> None:
        check_image(info, "infogan")
        super().__init__(z_dim, info.num_classes, cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.r0, k = upsampling_plan(info.resolution)
        self.c0 = width * 2 ** (k - 1)
        hidden = 16 * width
        self.fc = nn.Sequential(
            nn.Linear(self.latent.out_dim, hidden),
            _fc_norm(norm, hidden),
            nn.ReLU(True),
            nn.Linear(hidden, self.c0 * self.r0 * self.r0),
            _fc_norm(norm, self.c0 * self.r0 * self.r0),
            nn.ReLU(True),
        )
        layers: list[nn.Module] = []
        c = self.c0
        for _ in range(k - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1),
                feature_norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ConvTranspose2d(c, info.channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(self.latent(z, y))
        return self.body(h.view(-1, self.c0, self.r0, self.r0))


class InfoGANDiscriminator(Discriminator):
    """(B, C, R, R) -> features (B, 16 * width) -> logit (B,)."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "batch",
        cond: str = "none",
        slope: float = 0.1,
    ) -> None:
        check_image(info, "infogan")
        r0, k = upsampling_plan(info.resolution)
        spectral = check_norm(norm) == "spectral"
        hidden = 16 * width
        super().__init__(hidden, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        c_in = self.input_channels(info.channels, info.num_classes, self.cond)
        layers: list[nn.Module] = [
            sn(nn.Conv2d(c_in, width, 4, 2, 1), spectral),
            nn.LeakyReLU(slope, True),
        ]
        c = width
        for _ in range(k - 1):
            layers += [
                sn(nn.Conv2d(c, c * 2, 4, 2, 1), spectral),
                feature_norm(norm, c * 2),
                nn.LeakyReLU(slope, True),
            ]
            c *= 2
        layers += [
            nn.Flatten(),
            sn(nn.Linear(c * r0 * r0, hidden), spectral),
            _fc_norm(norm, hidden),
            nn.LeakyReLU(slope, True),
        ]
        self.body = nn.Sequential(*layers)


NETS.add(
    "infogan",
    NetFamily(
        InfoGANGenerator,
        InfoGANDiscriminator,
        "InfoGAN's MNIST nets with FC-1024 layers (Chen et al. 2016)",
    ),
)
