"""Latent optimisation (Wu et al. 2019, "LOGAN: Latent Optimisation for Generative Adversarial
Networks", Sec. 3, Eq. 3 and Eq. 10-11): before the players' updates, move each latent one or
more steps along the gradient of the generator's loss, so both nets train on samples the
discriminator finds harder to tell apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from ganarium.amp import input_grad

LatentMethod = Literal["gd", "ngd"]
LATENT_METHODS: tuple[LatentMethod, ...] = ("gd", "ngd")


def latent_step(
    z: Tensor,
    objective: Callable[[Tensor], Tensor],
    step_size: float = 0.9,
    method: LatentMethod = "ngd",
    damping: float = 5.0,
    steps: int = 1,
    clip: float | None = None,
) -> Tensor:
    """z' = z - delta_z for ``steps`` steps, with g = d objective(z) / dz per sample:

    - ``'gd'``: delta_z = step_size * g (Eq. 3, plain gradient descent on the G loss);
    - ``'ngd'``: delta_z = step_size / (damping + ||g||^2) * g (Eq. 10-11, natural gradient
      with the Fisher approximated by g g^T and Tikhonov damping; step 0.9, damping 5 in the paper).

    ``objective(z)`` returns per-sample losses (B,) to minimise. The returned z' is detached:
    the players' updates treat it as data, as in Algorithm 1 (no second-order terms).
    ``clip`` keeps z' in [-clip, clip] when given.
    """
    z = z.detach()
    for _ in range(steps):
        zr = z.clone().requires_grad_(True)
        with torch.enable_grad():
            g = input_grad(objective(zr), zr, create_graph=False).to(z.dtype)
        if method == "gd":
            delta = step_size * g
        elif method == "ngd":
            sq = g.flatten(1).pow(2).sum(1).view(-1, *([1] * (g.dim() - 1)))
            delta = step_size / (damping + sq) * g
        else:
            raise ValueError(f"unknown latent optimisation method {method!r}: use gd or ngd")
        z = z - delta
        if clip is not None:
            z = z.clamp(-clip, clip)
    return z.detach()
