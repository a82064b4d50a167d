"""A grid that crosses two sets of sources: a blank corner, the column sources along the top, the
row sources down the left, and in each cell what row r and column c make together (StyleGAN's
style-mixing figure, Karras et al. 2019, Fig. 3; any recipe that combines two factors)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def cross_grid(top: Tensor, left: Tensor, row_cells: Callable[[int], Tensor]) -> tuple[Tensor, int]:
    """(images, nrow) of a (len(left) + 1) x (len(top) + 1) grid of images in [-1, 1]: a blank
    (-1) corner and ``top`` in the first row; row r + 1 holds ``left[r]`` and then
    ``row_cells(r)``, one image per column source."""
    grid = [torch.full_like(top[:1], -1.0), top]
    for r in range(len(left)):
        grid += [left[r : r + 1], row_cells(r)]
    return torch.cat(grid), len(top) + 1
