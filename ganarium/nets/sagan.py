"""SAGAN nets (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks"): spectral
norm in both nets, a self-attention block at one intermediate resolution of each, conditional BN
in G and a projection head in D when class-conditional.

The layers between are DCGAN-shaped strided (transposed) convolutions, as in the authors' first
release, rather than the residual blocks of the ImageNet model: cheaper on a CPU, same idea.
The ImageNet ResNet nets are in ``ganarium.nets.sagan_resnet`` (the recipe's ``arch=resnet``).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.attention import SelfAttention
from ganarium.nn.cond_bn import ClassNormCondition
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import apply_norm, check_norm, feature_norm, sn


def attention_resolution(resolution: int, attn_res: int | None) -> int:
    """Where attention goes: ``attn_res`` or, by default, half the output resolution (the
    paper's best placement is the larger feature maps, Table 1)."""
    return attn_res if attn_res is not None else resolution // 2


class SumPool(nn.Module):
    """(B, C, H, W) -> (B, C): global sum pooling, as in the SNGAN/SAGAN discriminators."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(2, 3))


class SAGANGenerator(Generator):
    """z (B, z_dim) [, y (B,)] -> (B, C, R, R) in [-1, 1].

    cond='cbn' conditions every batch norm on the label (the paper's conditional BN), through a
    shared label embedding of ``embed_dim`` (0: per-class tables, see ``ClassNormCondition``);
    other modes fuse the label with z as in CGAN.
    """

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 128,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode | Literal["cbn"] = "cbn",
        spectral: bool = True,
        attn_res: int | None = None,
        embed_dim: int = 64,
    ) -> None:
        check_image(info, "sagan")
        self.cbn = cond == "cbn" and info.num_classes > 0
        super().__init__(z_dim, info.num_classes, "none" if cond == "cbn" else cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        r0, k = upsampling_plan(info.resolution)
        attn_at = attention_resolution(info.resolution, attn_res)

        self.label_cond = ClassNormCondition(info.num_classes, embed_dim) if self.cbn else None

        def make_norm(c: int) -> nn.Module:
            return self.label_cond.norm(c) if self.label_cond else feature_norm(norm, c)

        c = width * 2 ** (k - 1)
        self.stem = sn(nn.ConvTranspose2d(self.latent.out_dim, c, r0), spectral)
        self.stem_norm = make_norm(c)
        self.ups, self.norms, self.attn = nn.ModuleList(), nn.ModuleList(), nn.ModuleDict()
        res = r0
        for _ in range(k - 1):
            self.ups.append(sn(nn.ConvTranspose2d(c, c // 2, 4, 2, 1), spectral))
            self.norms.append(make_norm(c // 2))
            c, res = c // 2, res * 2
            if res == attn_at:
                self.attn[str(len(self.ups) - 1)] = SelfAttention(c, spectral)
        self.out = sn(nn.ConvTranspose2d(c, info.channels, 4, 2, 1), spectral)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.cbn and y is None:
            raise ValueError("this generator is conditional: pass labels y")
        cond = self.label_cond(y) if self.label_cond is not None else None
        h = self.stem(self.latent(z, None if self.cbn else y)[:, :, None, None])
        h = F.relu(apply_norm(self.stem_norm, h, cond))
        for i, (up, norm) in enumerate(zip(self.ups, self.norms)):
            h = F.relu(apply_norm(norm, up(h), cond))
            if str(i) in self.attn:
                h = self.attn[str(i)](h)
        return torch.tanh(self.out(h))


class SAGANDiscriminator(Discriminator):
    """(B, C, R, R) -> features (B, c_last) by global sum pooling -> logit (B,) [+ projection]."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "spectral",
        cond: str = "projection",
        attn_res: int | None = None,
        slope: float = 0.1,
    ) -> None:
        check_image(info, "sagan")
        spectral = check_norm(norm) == "spectral"
        _, k = upsampling_plan(info.resolution)
        c_last = width * 2 ** (k - 1)
        super().__init__(c_last, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        attn_at = attention_resolution(info.resolution, attn_res)
        c_in = self.input_channels(info.channels, info.num_classes, self.cond)
        layers: list[nn.Module] = []
        c_prev, c, res = c_in, width, info.resolution
        for _ in range(k):
            layers += [sn(nn.Conv2d(c_prev, c, 4, 2, 1), spectral), nn.LeakyReLU(slope)]
            res //= 2
            if res == attn_at:
                layers.append(SelfAttention(c, spectral))
            c_prev, c = c, c * 2
        layers += [sn(nn.Conv2d(c_prev, c_last, 3, 1, 1), spectral), nn.LeakyReLU(slope)]
        self.body = nn.Sequential(*layers, SumPool())


NETS.add(
    "sagan",
    NetFamily(
        SAGANGenerator, SAGANDiscriminator, "SAGAN nets with self-attention (Zhang et al. 2019)"
    ),
)
