"""Stages (StackGAN): ``sample_stages(tokens, latent)`` gives each stage's images for captions'
tokens (``tokens(captions)``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, register_capability
from ganarium.capabilities._probe import assert_samples


class Stages:
    """Mixin: a recipe offers sample_stages(tokens, latent), stage-I and stage-II images."""

    def tokens(self, captions: list[str]) -> Tensor:
        """Captions -> token ids (B, L) the stages take."""
        raise NotImplementedError

    def sample_stages(self, tokens: Tensor, latent: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError


@register_capability
class StagesCapability(Capability):
    name = "stages"
    mixin = Stages
    doc = "sample_stages(tokens, latent) gives each stage's images"

    def probe(self, recipe: Any) -> None:
        """Token ids per caption, and a stage-I image smaller than the stage-II one, which has
        the data's shape."""
        words = recipe.caption_vocabulary() if recipe.capabilities().captions else []
        captions = [" ".join(words[:2])] * 2
        tokens = recipe.tokens(captions)
        assert tokens.shape[0] == 2 and not tokens.is_floating_point(), f"tokens {tokens.shape}"
        latent = torch.randn(2, recipe.capabilities().latent_dim, device=recipe.device)
        with torch.no_grad():
            low, high = recipe.sample_stages(tokens, latent)
        assert len(low) == 2 and low.shape[-1] < high.shape[-1], "stage I is not the coarser"
        assert_samples(high, recipe, 2, "stage II")
