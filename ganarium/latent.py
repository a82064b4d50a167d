"""A recipe's latent: its shape and distribution, and the codes a recipe draws beside it.

The latent belongs to the recipe, not to its nets: ``generate``, interpolation, truncation, the
study and the interactive page draw from ``recipe.latent``; the nets take ``z`` as input.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

DISTRIBUTIONS = ("normal", "uniform")


@dataclass(frozen=True)
class Code:
    """A latent code drawn beside z (InfoGAN): ``categorical`` with ``size`` values, or
    ``continuous`` of ``size`` dimensions in U(-1, 1)."""

    name: str
    kind: str
    size: int


@dataclass(frozen=True)
class LatentSpec:
    """z of ``dim`` numbers from N(0, I) (``normal``) or U(-1, 1) (``uniform``), with optional
    named ``codes``. ``sample`` draws as the nets drew before 0.2 (the same torch calls)."""

    dim: int
    distribution: str = "normal"
    codes: tuple[Code, ...] = ()

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"latent distribution {self.distribution!r}: use normal or uniform")

    def sample(
        self, n: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None
    ) -> Tensor:
        """(n, dim) latents on ``device``."""
        if self.distribution == "uniform":
            return torch.rand(n, self.dim, device=device, generator=generator) * 2 - 1
        return torch.randn(n, self.dim, device=device, generator=generator)

    def code_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.codes)


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between latents a and b (1, D) at fractions t (T, 1) -> (T, D);
    linear when they are (nearly) parallel."""
    cos = torch.nn.functional.cosine_similarity(a, b).clamp(-1, 1)
    omega = torch.acos(cos)
    if float(omega) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
