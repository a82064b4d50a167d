"""Conditional discriminators judge (output, condition) pairs; augmenting the real and the fake
pairs (DiffAugment, ADA) must transform both images of a pair alike, as one image."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def augment_together(
    augment: Callable[[Tensor], Tensor], first: Tensor, second: Tensor
) -> tuple[Tensor, Tensor]:
    """``augment`` applied once to ``first`` and ``second`` stacked on the channels, split back."""
    both = augment(torch.cat([first, second], 1))
    return both[:, : first.shape[1]], both[:, first.shape[1] :]
