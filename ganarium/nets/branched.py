"""Nets that share all but one layer across branches (``ganarium.nn.branches``):

- ``BranchedGenerator``: K generators sharing every layer but the output layer, MAD-GAN's
  generators (Ghosh et al. 2018, Sec. 3) and CoGAN's pair (Liu & Tuzel 2016, Sec. 3: the first
  layers, which decode high-level semantics, are shared; the last, which render details, are not);
- ``BranchedDiscriminator``: K discriminators sharing every layer but the input layer (CoGAN's
  pair, whose last layers are shared).

Both wrap a net of any family here whose output layer is its last registered layer with
parameters (generators) or whose ``body`` is a sequence (discriminators: dcgan, infogan, mlp).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.errors import ConfigError
from ganarium.nn.branches import branch_first_layer, branch_last_layer, routed


def default_branches(n: int, branches: int, device: torch.device | str) -> Tensor:
    """Branch of each of n samples when none is asked for: 0, 1, ..., K-1, 0, 1, ... (equal
    shares, the same for the same n)."""
    return torch.arange(n, device=device) % branches


class BranchedGenerator(nn.Module):
    """``base`` with its output layer in ``branches`` copies. (z (B, z_dim), y, branch (B,) or
    int) -> samples (B, ...) of ``base``'s shape; ``branch=None`` cycles 0..K-1."""

    def __init__(self, base: nn.Module, branches: int) -> None:
        super().__init__()
        self.bank = branch_last_layer(base, branches)
        self.base = base
        self.branches = branches
        self.z_dim = base.z_dim

    def forward(
        self, z: Tensor, y: Tensor | None = None, branch: Tensor | int | None = None
    ) -> Tensor:
        if branch is None:
            branch = default_branches(len(z), self.branches, z.device)
        with routed(self.bank, branch, len(z)):
            return self.base(z, y)


class BranchedDiscriminator(nn.Module):
    """``base`` (a discriminator with a sequential ``body``) with its input layer in
    ``branches`` copies: (x (B, C, H, W), branch) -> logits (B,); ``features`` -> (B, F)."""

    def __init__(self, base: nn.Module, branches: int) -> None:
        super().__init__()
        if not isinstance(getattr(base, "body", None), nn.Sequential):
            raise ConfigError(
                f"{type(base).__name__} has no sequential body whose input layer can be "
                "branched: use net=dcgan, infogan or mlp"
            )
        self.bank = branch_first_layer(base.body, branches)
        self.base = base
        self.branches = branches
        self.feature_dim = base.feature_dim

    def features(self, x: Tensor, branch: Tensor | int) -> Tensor:
        with routed(self.bank, branch, len(x)):
            return self.base.features(x)

    def forward(self, x: Tensor, branch: Tensor | int) -> Tensor:
        with routed(self.bank, branch, len(x)):
            return self.base(x)
