"""Coupled pairs (CoGAN): ``generate_pairs(n)`` draws the two domains' images from shared latents."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, register_capability


class Pairs:
    """Mixin: a recipe offers generate_pairs(n), one image per domain from each shared latent."""

    def generate_pairs(self, n: int, z: Tensor | None = None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError


@register_capability
class PairsCapability(Capability):
    name = "pairs"
    mixin = Pairs
    doc = "generate_pairs(n) draws both domains from shared latents"

    def probe(self, recipe: Any) -> None:
        """n images of each domain, the same for the same latents."""
        dim = recipe.capabilities().latent_dim
        z = torch.randn(3, dim, device=recipe.device)
        with torch.no_grad():
            a, b = recipe.generate_pairs(3, z)
            a2, b2 = recipe.generate_pairs(3, z)
        assert len(a) == len(b) == 3, f"generate_pairs(3): {len(a)} and {len(b)} images"
        assert torch.isfinite(a).all() and torch.isfinite(b).all(), "non-finite pairs"
        assert torch.allclose(a, a2) and torch.allclose(b, b2), "pairs differ for the same z"
