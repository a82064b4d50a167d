"""Truncated latents: the truncation trick of Brock et al. 2019 ("Large Scale GAN Training for
High Fidelity Natural Image Synthesis", Sec. 3.1). Truncation in a style GAN's W is the mapping
network's (``ganarium.nn.style.MappingNetwork.truncate``)."""

from __future__ import annotations

import torch
from torch import Tensor


def truncate_latent(z: Tensor, threshold: float) -> Tensor:
    """Resample every entry of N(0, 1) latents z with |z| > threshold until none is left: samples
    from a truncated normal. Lower thresholds trade variety for fidelity."""
    if threshold <= 0:
        raise ValueError(f"truncation threshold must be > 0, got {threshold}")
    z = z.clone()
    out = z.abs() > threshold
    while out.any():
        z[out] = torch.randn(int(out.sum()), device=z.device, dtype=z.dtype)
        out = z.abs() > threshold
    return z
