"""Encoders and joint discriminators, built from any net family's discriminator body:

- ``Encoder``: x -> a vector (a latent z, or a Gaussian's mean and log-variance), the
  discriminator body of a family plus a linear layer (the VAE's and BiGAN's E);
- ``JointDiscriminator``: D(x, z) on pairs (BiGAN, Donahue et al. 2017, Sec. 3): an x path (a
  discriminator body), a z path (an MLP) and a joint MLP on both; it also returns BigBiGAN's
  unary scores s_x(x) and s_z(z) (Donahue & Simonyan 2019, Sec. 2);
- ``output_activation_removed(generator)``: the generator without its final tanh, so a
  likelihood can read its logits (the VAE's Bernoulli decoder).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.nets import NETS
from ganarium.nn.norms import sn


def family_body(info: DataInfo, net: str, width: int | None, norm: str) -> nn.Module:
    """The unconditional discriminator of family ``net``, for its ``features`` (B, F)."""
    kw: dict[str, Any] = {"norm": norm, "cond": "none"}
    if width is not None:
        kw["width"] = width
    return NETS.get(net).discriminator(dataclasses.replace(info, num_classes=0), **kw)


class Encoder(nn.Module):
    """x (B, C, H, W) -> (B, out_dim): a discriminator body and one linear layer."""

    def __init__(self, body: nn.Module, out_dim: int, spectral: bool = False) -> None:
        super().__init__()
        self.body = body
        self.feature_dim = body.feature_dim
        self.out = sn(nn.Linear(body.feature_dim, out_dim), spectral)

    def features(self, x: Tensor) -> Tensor:
        return self.body.features(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.features(x))


def gaussian_sample(stats: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(B, 2D) mean and log-variance -> (z by reparameterisation, mean, log-variance)."""
    mean, log_var = stats.chunk(2, 1)
    log_var = log_var.clamp(-12, 8)
    return mean + (0.5 * log_var).exp() * torch.randn_like(mean), mean, log_var


def mlp(d_in: int, width: int, depth: int, d_out: int, spectral: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [sn(nn.Linear(d_in, width), spectral), nn.LeakyReLU(0.2)]
        d_in = width
    layers.append(sn(nn.Linear(d_in, d_out), spectral))
    return nn.Sequential(*layers)


class JointDiscriminator(nn.Module):
    """Scores of pairs (x, z): ``forward`` -> (s_xz, s_x, s_z), each (B,).

    F(x): a discriminator body; H(z): an MLP of ``width`` units (``depth`` layers); J: an MLP on
    [F(x), H(z)]. s_x and s_z are linear heads on F(x) and H(z) (BigBiGAN's unary terms).
    """

    def __init__(
        self, body: nn.Module, z_dim: int, width: int = 256, depth: int = 2, spectral: bool = False
    ) -> None:
        super().__init__()
        self.x_path = body
        self.z_path = mlp(z_dim, width, depth - 1, width, spectral)
        self.z_act = nn.LeakyReLU(0.2)
        self.joint = mlp(body.feature_dim + width, width, depth, 1, spectral)
        self.x_head = sn(nn.Linear(body.feature_dim, 1), spectral)
        self.z_head = sn(nn.Linear(width, 1), spectral)

    def forward(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        fx, hz = self.x_path.features(x), self.z_act(self.z_path(z))
        s_xz = self.joint(torch.cat([fx, hz], 1)).squeeze(1)
        return s_xz, self.x_head(fx).squeeze(1), self.z_head(hz).squeeze(1)


def output_activation_removed(generator: nn.Module) -> bool:
    """Replace the generator's last ``nn.Tanh`` by the identity, so it returns logits a with
    samples tanh(a); False (nothing changed) when it has no tanh module."""
    found = [(name, m) for name, m in generator.named_modules() if isinstance(m, nn.Tanh) and name]
    if not found:
        return False
    parent, _, attr = found[-1][0].rpartition(".")
    owner = generator.get_submodule(parent)
    if isinstance(owner, nn.Sequential):
        owner[int(attr)] = nn.Identity()
    else:
        setattr(owner, attr, nn.Identity())
    return True
