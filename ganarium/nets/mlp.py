"""Multi-layer perceptrons, as in the original GAN (Goodfellow et al. 2014); work on any data."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import feature_norm, sn


class MLPGenerator(Generator):
    """z (B, z_dim) -> samples of ``info.shape``; tanh output for bounded data, linear otherwise."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 64,
        width: int = 256,
        depth: int = 3,
        norm: str = "none",
        cond: LatentMode = "concat",
    ) -> None:
        super().__init__(z_dim, info.num_classes, cond)
        self.out_shape = tuple(info.shape)
        layers: list[nn.Module] = []
        d = self.latent.out_dim
        for _ in range(depth):
            layers += [
                nn.Linear(d, width),
                feature_norm(norm if norm != "spectral" else "none", width, 1),
                nn.ReLU(),
            ]
            d = width
        layers.append(nn.Linear(d, math.prod(self.out_shape)))
        if info.value_range is not None:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.latent(z, y)).view(-1, *self.out_shape)


class MLPDiscriminator(Discriminator):
    def __init__(
        self,
        info: DataInfo,
        width: int = 256,
        depth: int = 3,
        norm: str = "none",
        cond: str = "none",
    ) -> None:
        spectral = norm == "spectral"
        super().__init__(width, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        d = math.prod(info.shape) + (info.num_classes if self.cond == "concat" else 0)
        layers: list[nn.Module] = [nn.Flatten()]
        for _ in range(depth):
            layers += [
                sn(nn.Linear(d, width), spectral),
                feature_norm(norm if not spectral else "none", width, 1),
                nn.LeakyReLU(0.2),
            ]
            d = width
        self.body = nn.Sequential(*layers)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond == "concat":
            x = x.flatten(1)
        return super().features(x, y)


NETS.add(
    "mlp",
    NetFamily(MLPGenerator, MLPDiscriminator, "fully connected nets for toy or small image data"),
)
