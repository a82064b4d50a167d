"""Self-modulated batch norm (Chen et al. 2019, "On Self Modulation for Generative Adversarial
Networks", Sec. 3, Eq. 2): the affine parameters of each BN layer are functions of the latent,
gamma_l(z) and beta_l(z), so z modulates every layer of the generator, not only its input."""

from __future__ import annotations

import torch
from torch import nn


class SelfModulatedBatchNorm2d(nn.Module):
    """(B, C, H, W), z (B, z_dim) -> (B, C, H, W): BN(x) * (1 + gamma(z)) + beta(z).

    gamma and beta are one-hidden-layer MLPs (hidden 32, ReLU), as in the paper. The gain is
    centred at 1 and the output layers start at 0, so a fresh layer is plain batch norm.
    """

    conditional = True

    def __init__(self, channels: int, z_dim: int, hidden: int = 32) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, channels))
        self.beta = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, channels))
        for mlp in (self.gamma, self.beta):
            nn.init.zeros_(mlp[2].weight)
            nn.init.zeros_(mlp[2].bias)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma = 1 + self.gamma(z)
        return self.bn(x) * gamma[:, :, None, None] + self.beta(z)[:, :, None, None]
