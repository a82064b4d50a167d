"""Nets conditioned on a continuous vector h instead of a class label, as IC-GAN conditions
on instance features (Casanova et al. 2021, Sec. 2): G reads [z, W h] (a learned embedding of
h next to the noise) and D adds a projection term <V h, phi(x)> to its logit (the projection
discriminator of Miyato & Koyama 2018 with a linear map in place of the label embedding).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.nn.norms import sn


class VectorConditionedGenerator(nn.Module):
    """(z (B, z_dim), h (B, cond_dim)) -> base([z, W h]); ``base`` reads z_dim + embed_dim."""

    def __init__(self, base: nn.Module, z_dim: int, cond_dim: int, embed_dim: int) -> None:
        super().__init__()
        self.base, self.z_dim = base, z_dim
        self.embed = nn.Linear(cond_dim, embed_dim)

    def forward(self, z: Tensor, h: Tensor) -> Tensor:
        return self.base(torch.cat([z, self.embed(h)], 1))


class VectorProjectionDiscriminator(nn.Module):
    """(x, h (B, cond_dim)) -> logits (B,): ``base``'s logit plus <V h, phi(x)>."""

    def __init__(self, base: nn.Module, cond_dim: int, spectral: bool = False) -> None:
        super().__init__()
        self.base = base
        self.project = sn(nn.Linear(cond_dim, base.feature_dim, bias=False), spectral)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        phi = self.base.features(x)
        return self.base.head(phi).squeeze(1) + (self.project(h) * phi).sum(1)
