"""Rotation prediction, the self-supervised task of SS-GAN (Chen et al. 2019, "Self-Supervised
GANs via Auxiliary Rotation Loss", Sec. 3) that S3GAN's discriminator also learns."""

from __future__ import annotations

import torch
from torch import Tensor


def rotation_batch(x: Tensor) -> tuple[Tensor, Tensor]:
    """Each image of x (B, C, H, W), H == W, turned by its own random multiple r of 90 degrees:
    (rotated images (B, C, H, W), r (B,) in {0, 1, 2, 3})."""
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"rotation needs square images, got {tuple(x.shape[-2:])}")
    r = torch.randint(4, (len(x),), device=x.device)
    turns = torch.stack([torch.rot90(x, k, (2, 3)) for k in range(4)])  # (4, B, C, H, W)
    return turns[r, torch.arange(len(x), device=x.device)], r
