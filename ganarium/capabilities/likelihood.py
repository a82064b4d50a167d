"""A likelihood bound (VAE, DRAW): ``evidence_lower_bound(x)`` per example, in nats."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities import Capability, register_capability
from ganarium.capabilities._probe import real_like


class Likelihood:
    """Mixin: a recipe offers evidence_lower_bound(x), the ELBO of each example in nats."""

    def evidence_lower_bound(self, x: Tensor, samples: int = 1) -> Tensor:
        raise NotImplementedError


@register_capability
class LikelihoodCapability(Capability):
    name = "likelihood"
    mixin = Likelihood
    doc = "evidence_lower_bound(x), each example's ELBO in nats"

    def probe(self, recipe: Any) -> None:
        """One finite bound per example, for one draw of z and averaged over two."""
        x = real_like(recipe)
        with torch.no_grad():
            elbo = recipe.evidence_lower_bound(x)
            twice = recipe.evidence_lower_bound(x, samples=2)
        assert elbo.shape == (3,) and torch.isfinite(elbo).all(), f"ELBO {elbo}"
        assert twice.shape == (3,) and torch.isfinite(twice).all(), f"ELBO of 2 draws {twice}"
