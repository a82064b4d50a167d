"""Ways a label enters a net: at the latent (CGAN, Mirza & Osindero 2014), at the input, or by
projection in the discriminator's output (Miyato & Koyama 2018)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.errors import ConfigError

LatentMode = Literal["none", "concat", "hadamard"]


class LatentConditioner(nn.Module):
    """Fuses a label with z: 'concat' appends a label embedding; 'hadamard' multiplies z by one.

    (B, z_dim), (B,) -> (B, out_dim)
    """

    def __init__(
        self,
        z_dim: int,
        num_classes: int,
        mode: LatentMode = "concat",
        embed_dim: int | None = None,
    ) -> None:
        super().__init__()
        if mode not in ("none", "concat", "hadamard"):
            raise ConfigError(f"unknown latent conditioning {mode!r}: use none, concat or hadamard")
        self.mode = mode if num_classes > 0 else "none"
        self.embed_dim = embed_dim or z_dim if self.mode == "concat" else z_dim
        if self.mode == "concat":
            self.embed = nn.Embedding(num_classes, self.embed_dim)
        elif self.mode == "hadamard":
            self.embed = nn.Embedding(num_classes, z_dim)
        self.out_dim = z_dim + self.embed_dim if self.mode == "concat" else z_dim

    def forward(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if self.mode == "none":
            return z
        if y is None:
            raise ValueError("this generator is conditional: pass labels y")
        if self.mode == "concat":
            return torch.cat([z, self.embed(y)], 1)
        return z * self.embed(y)


def label_planes(y: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """One-hot labels broadcast to ``like``'s spatial shape: (B,) -> (B, K, H, W) or (B, K)."""
    onehot = F.one_hot(y, num_classes).to(like.dtype)
    if like.dim() == 4:
        return onehot[:, :, None, None].expand(-1, -1, like.shape[2], like.shape[3])
    return onehot
