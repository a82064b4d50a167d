"""A generator that reads latent codes beside its noise (InfoGAN's G, Chen et al. 2016)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CodedGenerator(nn.Module):
    """Wraps ``base`` so it reads (noise z, categorical codes, continuous codes):
    (B, z_dim), (B, len(categories)) longs, (B, n_continuous) -> images. ``z_dim`` is the noise
    size alone. Each categorical code enters as a one-hot vector scaled by ``code_scale``,
    concatenated to z with the continuous codes; with ``categorical_as_label`` the one
    categorical code is instead the class label of a conditional ``base``."""

    def __init__(
        self,
        base: nn.Module,
        noise_dim: int,
        categories: Sequence[int],
        n_continuous: int,
        categorical_as_label: bool = False,
        code_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if categorical_as_label and len(categories) != 1:
            raise ValueError("categorical_as_label needs exactly one categorical code")
        self.base, self.code_scale = base, code_scale
        self.z_dim, self.categories, self.n_continuous = noise_dim, tuple(categories), n_continuous
        self.categorical_as_label = categorical_as_label

    def forward(self, z: Tensor, cat: Tensor, cont: Tensor) -> Tensor:
        if self.categorical_as_label:  # the base generator conditions on it like on a class
            return self.base(torch.cat([z, cont], 1), cat[:, 0])
        one_hots = [
            F.one_hot(cat[:, i], k).to(z.dtype) * self.code_scale
            for i, k in enumerate(self.categories)
        ]
        return self.base(torch.cat([z, *one_hots, cont], 1))
