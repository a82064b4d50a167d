"""Helpers the capability modules share: inputs for the conformance probes, the checks of what a
probe got back, and the square-ish row length of a sample grid. (Not a capability: the leading
underscore keeps the registry from importing it as one.)"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor


def square_row(n: int) -> int:
    """Images per row of a square-ish grid of ``n``."""
    return max(1, int(math.sqrt(n)))


def real_like(recipe: Any, n: int = 3, seed: int = 0) -> Tensor:
    """``n`` random inputs of the recipe's data shape and range, on its device."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, *recipe.info.shape, generator=g) * 2 - 1).to(recipe.device)


def assert_samples(out: Any, recipe: Any, n: int, what: str, in_range: bool = True) -> None:
    """``out`` is ``n`` finite samples of the data's shape (and, with ``in_range``, within the
    data's range when it is bounded)."""
    assert isinstance(out, Tensor), f"{what}: returned {type(out).__name__}, not a tensor"
    want = (n, *recipe.info.shape)
    assert tuple(out.shape) == want, f"{what}: shape {tuple(out.shape)}, expected {want}"
    assert torch.isfinite(out).all(), f"{what}: non-finite values"
    if in_range and recipe.info.value_range is not None:
        lo, hi = recipe.info.value_range
        assert out.min() >= lo - 1e-4 and out.max() <= hi + 1e-4, f"{what}: outside [{lo}, {hi}]"


def assert_grid(grid: Any, recipe: Any, what: str) -> None:
    """``grid`` is (finite images of the data's shape, images per row) filling whole rows."""
    images, nrow = grid
    assert isinstance(nrow, int) and nrow >= 1, f"{what}: images per row {nrow!r}"
    assert_samples(images, recipe, len(images), what, in_range=False)
    assert len(images) % nrow == 0, f"{what}: {len(images)} images do not fill rows of {nrow}"
