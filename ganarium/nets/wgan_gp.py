"""The CIFAR ResNet of WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
Appendix F; the official ``gan_cifar_resnet.py``), registered as ``wgan-gp-resnet``.

The same residual layout as SNGAN's CIFAR ResNet at 128 channels in both nets: G up-samples by
nearest neighbour, the critic has no normalisation (``norm='layer'`` puts layer norm in its
blocks) and pools by the mean instead of the sum.
"""

from __future__ import annotations

from typing import Literal

from ganarium.data import DataInfo
from ganarium.nets import NETS, NetFamily
from ganarium.nets.sngan import SNGANResNetDiscriminator, SNGANResNetGenerator
from ganarium.nn.conditioning import LatentMode


def wgan_gp_generator(
    info: DataInfo,
    z_dim: int = 128,
    width: int = 128,
    norm: str = "batch",
    cond: LatentMode | Literal["cbn"] = "concat",
) -> SNGANResNetGenerator:
    """z (B, z_dim) -> linear -> (width, 4, 4) -> 3 up-blocks -> BN-ReLU-conv3-tanh (B, C, 32, 32)."""
    return SNGANResNetGenerator(info, z_dim, width, norm, cond, upsample="nearest")


def wgan_gp_critic(
    info: DataInfo, width: int = 128, norm: str = "none", cond: str = "none"
) -> SNGANResNetDiscriminator:
    """(B, C, 32, 32) -> optimized block, a down-block, two plain blocks, ReLU, mean pool -> (B,)."""
    return SNGANResNetDiscriminator(info, width, norm, cond, pool="mean")


NETS.add(
    "wgan-gp-resnet",
    NetFamily(
        wgan_gp_generator,
        wgan_gp_critic,
        "WGAN-GP's CIFAR ResNet (Gulrajani et al. 2017, gan_cifar_resnet.py)",
    ),
)
