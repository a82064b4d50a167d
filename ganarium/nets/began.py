"""BEGAN's nets as in the paper (Berthelot et al. 2017, "BEGAN: Boundary Equilibrium Generative
Adversarial Networks", Sec. 3.5 and Fig. 1), registered as ``began``: two 3x3 convolutions (ELU)
per scale, nearest up-sampling, stride-2 sub-sampling, channels growing by ``n`` (``width``)
at each down-sampling in the encoder, and fully connected maps, with no non-linearity, between
the 8x8 maps and the embedding h. G has the decoder's architecture with weights of its own.
"""

from __future__ import annotations

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nets import NETS, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nets.autoencoder import AutoencoderCritic
from ganarium.nn.norms import check_norm

BOTTOM = 8  # the decoder starts, and the encoder ends, at 8x8


def began_plan(resolution: int) -> int:
    """The number of x2 steps from 8x8 to ``resolution`` (128 -> 4)."""
    r0, k = upsampling_plan(resolution, base=BOTTOM)
    if r0 != BOTTOM:
        raise ConfigError(f"BEGAN's nets need 8 * 2**k pixels (16, 32, 64, 128), not {resolution}")
    return k


def _conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride, 1), nn.ELU()]


class BEGANDecoder(nn.Module):
    """h (B, h_dim) -> linear -> (n, 8, 8) -> per scale 2 x [conv3-ELU], up x2 between scales
    -> conv3 -> (B, C, R, R) (tanh when ``out_act``)."""

    def __init__(self, info: DataInfo, h_dim: int, width: int, out_act: bool) -> None:
        super().__init__()
        k = began_plan(info.resolution)
        self.width = width
        self.linear = nn.Linear(h_dim, width * BOTTOM * BOTTOM)
        layers: list[nn.Module] = []
        for s in range(k + 1):
            layers += _conv(width, width) + _conv(width, width)
            if s < k:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers.append(nn.Conv2d(width, info.channels, 3, padding=1))
        if out_act:
            layers.append(nn.Tanh())
        self.body = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(self.linear(h).view(-1, self.width, BOTTOM, BOTTOM))


class BEGANEncoder(nn.Module):
    """(B, C, R, R) -> conv3-ELU to n -> per scale s 2 x [conv3-ELU] at n(s+1) channels, then a
    stride-2 conv3-ELU to n(s+2) -> ... -> (n(k+1), 8, 8) -> linear -> h (B, h_dim)."""

    def __init__(self, info: DataInfo, h_dim: int, width: int) -> None:
        super().__init__()
        k = began_plan(info.resolution)
        layers: list[nn.Module] = _conv(info.channels, width)
        for s in range(k + 1):
            c = width * (s + 1)
            layers += _conv(c, c) + _conv(c, c)
            if s < k:
                layers += _conv(c, c + width, stride=2)
        layers += [nn.Flatten(), nn.Linear(width * (k + 1) * BOTTOM * BOTTOM, h_dim)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class BEGANCritic(AutoencoderCritic):
    """x (B, C, R, R) -> per-sample L1 reconstruction error (B,); ``features(x)`` is h."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 128,
        norm: str = "none",
        cond: str = "none",
        code_dim: int = 64,
    ) -> None:
        nn.Module.__init__(self)  # the parent's compact encoder and decoder are not built
        check_image(info, "began")
        if check_norm(norm) not in ("none", "spectral"):
            raise ConfigError(f"BEGAN's paper nets use no normalisation, not norm={norm}")
        self.energy_kind, self.feature_dim = "l1", code_dim
        self.encoder = BEGANEncoder(info, code_dim, width)
        self.decoder = BEGANDecoder(info, code_dim, width, out_act=False)


class BEGANGenerator(Generator):
    """z (B, z_dim) -> (B, C, R, R) in [-1, 1]: the decoder's architecture, its own weights."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 64,
        width: int = 128,
        norm: str = "none",
        cond: str = "none",
    ) -> None:
        check_image(info, "began")
        super().__init__(z_dim, 0, "none")
        if check_norm(norm) not in ("none", "spectral"):
            raise ConfigError(f"BEGAN's paper nets use no normalisation, not norm={norm}")
        self.decoder = BEGANDecoder(info, z_dim, width, out_act=True)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)


NETS.add(
    "began",
    NetFamily(
        BEGANGenerator,
        BEGANCritic,
        "BEGAN's paper nets: two convs per scale, ELU, no BN (Berthelot et al. 2017)",
    ),
)
