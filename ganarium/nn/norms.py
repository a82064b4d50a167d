"""Normalisation choices by name, and spectral normalisation (Miyato et al. 2018)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

NormName = Literal["batch", "layer", "instance", "spectral", "none"]
NORMS = ("batch", "layer", "instance", "spectral", "none")


def check_norm(norm: str) -> str:
    if norm not in NORMS:
        from ganarium.errors import ConfigError

        raise ConfigError(f"unknown norm {norm!r}: use one of {', '.join(NORMS)}")
    return norm


def sn(module: nn.Module, enabled: bool = True, n_power_iterations: int = 1) -> nn.Module:
    """Wrap a conv/linear layer in spectral norm when ``enabled`` (W / sigma(W), one power step)."""
    if not enabled:
        return module
    return spectral_norm(module, n_power_iterations=n_power_iterations, eps=1e-6)


def feature_norm(norm: str, channels: int, dims: Literal[1, 2] = 2) -> nn.Module:
    """The activation normalisation named ``norm`` for ``channels`` features ('spectral'/'none' -> Identity).

    'layer' normalises over all of (C, H, W) per sample, the critic norm WGAN-GP recommends
    in place of batch norm.
    """
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels) if dims == 2 else nn.LayerNorm(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True) if dims == 2 else nn.LayerNorm(channels)
    return nn.Identity()


def apply_norm(norm: nn.Module, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    """Call a norm layer, passing the condition to conditional norms (``norm.conditional``)."""
    return norm(x, cond) if getattr(norm, "conditional", False) else norm(x)


@torch.no_grad()
def largest_singular_value(weight: torch.Tensor) -> float:
    """Exact sigma_max of a weight reshaped to (out, -1); used to test spectral norm."""
    return float(torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2))


@torch.no_grad()
def standing_statistics(
    net: nn.Module, inputs: Callable[[int], tuple], batches: int = 16, batch_size: int = 64
) -> None:
    """Recompute every batch norm's running statistics of ``net`` as the equal-weight average over
    ``batches`` forward passes of ``net(*inputs(batch_size))`` ("standing statistics", Brock et
    al. 2019, App. C). Only the batch norms run in train mode, so nothing else (spectral-norm
    power iterations) moves."""
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    modes = [m.training for m in net.modules()]
    momenta = [m.momentum for m in bns]
    net.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # a cumulative, equal-weight average
        m.train()
    try:
        for _ in range(batches):
            net(*inputs(batch_size))
    finally:
        for m, momentum in zip(bns, momenta):
            m.momentum = momentum
        for m, mode in zip(net.modules(), modes):
            m.train(mode)
