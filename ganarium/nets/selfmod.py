"""The self-modulated generator (Chen et al. 2019, "On Self Modulation for Generative
Adversarial Networks", Sec. 3): DCGAN-shaped (the paper's SNDCGAN setting) with every batch
norm replaced by self-modulated BN, whose scale and shift are MLPs of z. The discriminator is
DCGAN's (spectral norm by the recipe's choice)."""

from __future__ import annotations

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nets.dcgan import DCGANDiscriminator
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.self_mod import SelfModulatedBatchNorm2d


class SelfModGenerator(Generator):
    """z (B, z_dim) [, y] -> (B, C, R, R) in [-1, 1]; every norm reads z (Eq. 2).

    The modulating input is the label-fused latent, so a conditional variant modulates on
    [z, embed(y)] (the paper's conditional setting mixes the label in the same way).
    """

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 128,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode = "concat",
        hidden: int = 32,
    ) -> None:
        check_image(info, "selfmod")
        super().__init__(z_dim, info.num_classes, cond)
        r0, k = upsampling_plan(info.resolution)
        d = self.latent.out_dim
        c = width * 2 ** (k - 1)
        self.stem = nn.ConvTranspose2d(d, c, r0, 1, 0, bias=False)
        self.ups, self.norms = (
            nn.ModuleList(),
            nn.ModuleList([SelfModulatedBatchNorm2d(c, d, hidden)]),
        )
        for _ in range(k - 1):
            self.ups.append(nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False))
            self.norms.append(SelfModulatedBatchNorm2d(c // 2, d, hidden))
            c //= 2
        self.out = nn.ConvTranspose2d(c, info.channels, 4, 2, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        zc = self.latent(z, y)
        h = torch.relu(self.norms[0](self.stem(zc[:, :, None, None]), zc))
        for up, norm in zip(self.ups, self.norms[1:]):
            h = torch.relu(norm(up(h), zc))
        return torch.tanh(self.out(h))


NETS.add(
    "selfmod",
    NetFamily(
        SelfModGenerator,
        DCGANDiscriminator,
        "self-modulated DCGAN generator (Chen et al. 2019) with the DCGAN discriminator",
    ),
)
