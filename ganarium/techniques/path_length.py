"""Path-length regularization (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN", Eq. 4-5): E_{w, y ~ N(0, I)} (||J_w^T y||_2 - a)^2, with y scaled by 1/sqrt(H W) and
``a`` a running mean of the lengths, so that a fixed-size step in w changes the image by a fixed
amount whatever the direction."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganarium.amp import input_grad


def path_lengths(images: Tensor, ws: Tensor) -> Tensor:
    """||J_w^T y||_2 per sample for images (n, C, H, W) made from ws (n, num_ws, w_dim): J_w^T y
    is d(g(w) . y)/dw for one random image-space y, its squared norm averaged over the ws."""
    y = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    grad = input_grad((images * y).sum(), ws)
    return grad.pow(2).sum(2).mean(1).sqrt()


def path_length_penalty(
    images: Tensor, ws: Tensor, mean: Tensor, decay: float
) -> tuple[Tensor, Tensor]:
    """(penalty, lengths): the mean squared deviation of the path lengths from ``mean``, a
    running mean (0-dim buffer) moved towards this batch's mean length by ``decay`` first."""
    lengths = path_lengths(images, ws)
    with torch.no_grad():
        mean.lerp_(lengths.mean().float(), decay)
    return (lengths - mean).pow(2).mean(), lengths
