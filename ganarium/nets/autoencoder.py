"""Auto-encoder critics and their matching generator: the discriminator of EBGAN (Zhao et al.
2017, "Energy-based Generative Adversarial Network", Sec. 2.3) and BEGAN (Berthelot et al. 2017,
"BEGAN: Boundary Equilibrium Generative Adversarial Networks", Sec. 3.5).

The critic's output is an energy: the per-sample reconstruction error ||Dec(Enc(x)) - x||
(mean squared for EBGAN, mean absolute for BEGAN). Low energy means "looks like data".
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.norms import check_norm, feature_norm

EnergyKind = Literal["mse", "l1"]


def _act(kind: str) -> nn.Module:
    # BEGAN uses ELUs throughout; EBGAN's DCGAN-style nets use (leaky) ReLUs
    return nn.ELU() if kind == "elu" else nn.LeakyReLU(0.2)


class Decoder(nn.Module):
    """code (B, code_dim) -> linear -> (width, r0, r0) -> k x [upsample, conv3, act] -> conv3.

    BEGAN's decoder (nearest upsampling, 3x3 convs, ELU, no BN); also its generator.
    """

    def __init__(
        self,
        info: DataInfo,
        code_dim: int,
        width: int,
        act: str = "elu",
        norm: str = "none",
        out_act: bool = True,
    ) -> None:
        super().__init__()
        self.r0, k = upsampling_plan(info.resolution)
        self.width = width
        self.linear = nn.Linear(code_dim, width * self.r0 * self.r0)
        layers: list[nn.Module] = []
        for _ in range(k):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(width, width, 3, padding=1),
                feature_norm(norm, width),
                _act(act),
            ]
        layers.append(nn.Conv2d(width, info.channels, 3, padding=1))
        if out_act:
            layers.append(nn.Tanh())
        self.body = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.body(self.linear(code).view(-1, self.width, self.r0, self.r0))


class Encoder(nn.Module):
    """(B, C, R, R) -> k x [conv4 stride 2, act] -> flatten -> linear -> code (B, code_dim)."""

    def __init__(
        self, info: DataInfo, code_dim: int, width: int, act: str = "elu", norm: str = "none"
    ) -> None:
        super().__init__()
        r0, k = upsampling_plan(info.resolution)
        layers: list[nn.Module] = [nn.Conv2d(info.channels, width, 3, padding=1), _act(act)]
        c = width
        for i in range(k):
            layers += [nn.Conv2d(c, width * (i + 2), 4, 2, 1), feature_norm(norm, width * (i + 2))]
            layers.append(_act(act))
            c = width * (i + 2)
        layers += [nn.Flatten(), nn.Linear(c * r0 * r0, code_dim)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class AutoencoderCritic(nn.Module):
    """x (B, C, R, R) -> energy (B,) = per-sample reconstruction error.

    ``features(x)`` is the code (B, code_dim), which EBGAN's pull-away term reads. Labels are
    not used (the energy critics of both papers are unconditional).
    """

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "none",
        cond: str = "none",
        code_dim: int = 64,
        energy: EnergyKind = "l1",
        act: str = "elu",
    ) -> None:
        super().__init__()
        check_image(info, "autoencoder")
        norm = "none" if norm == "spectral" else check_norm(norm)
        if energy not in ("mse", "l1"):
            raise ValueError(f"unknown energy {energy!r}: use mse or l1")
        self.energy_kind, self.feature_dim = energy, code_dim
        self.encoder = Encoder(info, code_dim, width, act, norm)
        # the reconstruction is not squashed: a linear output lets D put fakes far from data
        self.decoder = Decoder(info, code_dim, width, act, norm, out_act=False)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)

    def reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction (B, C, R, R), code (B, code_dim))."""
        code = self.encoder(x)
        return self.decoder(code), code

    def energy(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        err = recon - x
        err = err.pow(2) if self.energy_kind == "mse" else err.abs()
        return err.flatten(1).mean(1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.energy(x, self.reconstruct(x)[0])


class AutoencoderGenerator(Generator):
    """z (B, z_dim) -> (B, C, R, R) in [-1, 1]: BEGAN's generator, a decoder of its own."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 64,
        width: int = 64,
        norm: str = "none",
        cond: str = "none",
        act: str = "elu",
    ) -> None:
        check_image(info, "autoencoder")
        super().__init__(z_dim, 0, "none")
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.decoder = Decoder(info, z_dim, width, act, norm, out_act=True)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)


NETS.add(
    "autoencoder",
    NetFamily(
        AutoencoderGenerator,
        AutoencoderCritic,
        "auto-encoder critic and decoder generator (EBGAN, BEGAN)",
    ),
)
