"""DCGAN nets whose generator conditions every batch norm on the label (conditional BN, as in
the projection-discriminator paper, Miyato & Koyama 2018, and de Vries et al. 2017), registered
as ``cond-dcgan``. The discriminator is DCGAN's, with any conditioning (``projection``, ...)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nets.dcgan import DCGANDiscriminator
from ganarium.nn.cond_bn import ClassNormCondition
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import apply_norm, check_norm, feature_norm


class CondDCGANGenerator(Generator):
    """z (B, z_dim), y (B,) -> (B, C, R, R) in [-1, 1].

    cond='cbn' (default) puts the label into every norm layer and not into z; 'concat' or
    'hadamard' fuse it with z as in the plain DCGAN generator, with unconditional norms.

    ``embed_dim`` > 0 feeds the norms a shared learned label embedding, 0 per-class tables
    (see ``ClassNormCondition`` for why shared is the default).
    """

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 100,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode | Literal["cbn"] = "cbn",
        embed_dim: int = 64,
    ) -> None:
        check_image(info, "cond-dcgan")
        self.cbn = cond == "cbn" and info.num_classes > 0
        super().__init__(z_dim, info.num_classes, "none" if cond == "cbn" else cond)
        r0, k = upsampling_plan(info.resolution)
        norm = "none" if norm == "spectral" else check_norm(norm)

        self.label_cond = ClassNormCondition(info.num_classes, embed_dim) if self.cbn else None

        def make_norm(c: int) -> nn.Module:
            return self.label_cond.norm(c) if self.label_cond else feature_norm(norm, c)

        c = width * 2 ** (k - 1)
        self.convs = nn.ModuleList([nn.ConvTranspose2d(self.latent.out_dim, c, r0, 1, 0)])
        self.norms = nn.ModuleList([make_norm(c)])
        for _ in range(k - 1):
            self.convs.append(nn.ConvTranspose2d(c, c // 2, 4, 2, 1))
            self.norms.append(make_norm(c // 2))
            c //= 2
        self.out = nn.ConvTranspose2d(c, info.channels, 4, 2, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.cbn and y is None:
            raise ValueError("this generator is conditional: pass labels y")
        h = self.latent(z, y)[:, :, None, None]
        cond = self.label_cond(y) if self.label_cond is not None else None
        for conv, norm in zip(self.convs, self.norms):
            h = torch.relu(apply_norm(norm, conv(h), cond))
        return torch.tanh(self.out(h))


NETS.add(
    "cond-dcgan",
    NetFamily(
        CondDCGANGenerator,
        DCGANDiscriminator,
        "DCGAN nets with conditional batch norm in G (Miyato & Koyama 2018)",
    ),
)
