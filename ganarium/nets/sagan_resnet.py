"""SAGAN's ResNet nets for ImageNet (Zhang et al. 2019, "Self-Attention Generative Adversarial
Networks", Sec. 5): the projection-cGAN ResNet of Miyato & Koyama with self-attention, as
BigGAN-PyTorch reproduces it (``launch_SAGAN_bs128x2_ema.sh``): BigGAN's channel tables and
blocks with neither a shared embedding nor hierarchical z, so every conditional batch norm has
per-class gain and bias tables; attention at 64x64 in both nets; Xavier initialisation."""

from __future__ import annotations

from collections.abc import Iterable

from ganarium.data import DataInfo
from ganarium.nets.biggan_official import OfficialBigGANDiscriminator, OfficialBigGANGenerator


def sagan_resnet_generator(
    info: DataInfo,
    z_dim: int = 128,
    width: int = 64,
    attn: int | Iterable[int] | None = None,
    init: str = "xavier",
) -> OfficialBigGANGenerator:
    """z (B, z_dim) [, y (B,)] -> (B, C, R, R): z through a linear to 16*width at 4x4, residual
    up-blocks with class-conditional BN, attention at ``attn`` (None: 64)."""
    return OfficialBigGANGenerator(
        info, z_dim=z_dim, width=width, shared=False, hier=False, attn=attn, init=init
    )


def sagan_resnet_discriminator(
    info: DataInfo,
    width: int = 64,
    norm: str = "spectral",
    cond: str = "projection",
    attn: int | Iterable[int] | None = None,
    init: str = "xavier",
) -> OfficialBigGANDiscriminator:
    """(B, C, R, R) [, y (B,)] -> (B,): wide residual down-blocks, attention at ``attn``,
    global sum pooling, a linear logit plus the class projection."""
    return OfficialBigGANDiscriminator(
        info, width=width, norm=norm, cond=cond, attn=attn, init=init
    )
