"""Standing statistics for a recipe's sampling generator (Brock et al. 2019, "Large Scale GAN
Training for High Fidelity Natural Image Synthesis", App. C): its batch norms' running statistics
re-estimated from fresh samples before sampling, instead of those tracked during training."""

from __future__ import annotations

import torch
from torch import Tensor

from ganarium.models import Recipe
from ganarium.nn.norms import standing_statistics


@torch.no_grad()
def standing_generator_statistics(
    recipe: Recipe, passes: int, batch_size: int, net: str = "G"
) -> None:
    """Re-estimate the batch-norm statistics of ``recipe``'s sampling ``net`` (its EMA copy when
    kept) as the average over ``passes`` forward passes of ``batch_size`` fresh latents from
    ``recipe.latent`` and, when the recipe is conditional, uniformly drawn labels; weights and
    spectral-norm vectors stay put."""
    G = recipe.net_for_sampling(net)
    k = recipe.info.num_classes if recipe.is_conditional() else 0

    def inputs(n: int) -> tuple[Tensor, Tensor | None]:
        y = torch.randint(0, k, (n,), device=recipe.device) if k else None
        return recipe.latent.sample(n, recipe.device), y

    standing_statistics(G, inputs, passes, batch_size)
