"""Toy 2-D mixtures used to measure mode collapse (Metz et al. 2017; Srivastava et al. 2017;
Lin et al. 2018): a ring of 8 Gaussians and a 5x5 grid of 25 Gaussians."""

from __future__ import annotations

import math

import torch

from ganarium.data import DATASETS, DataInfo, TensorDictDataset


def ring_modes(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    return torch.stack([radius * angles.cos(), radius * angles.sin()], 1).float()


def grid_modes(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    return torch.cartesian_prod(ticks, ticks)


TOY_SETS = {
    # name: (modes, std); ring: Metz et al. (radius 2, std 0.02); grid: VEEGAN/PacGAN (std 0.05)
    "ring8": (ring_modes(8, 2.0), 0.02),
    "grid25": (grid_modes(5, 2.0), 0.05),
}


def sample_mixture(
    modes: torch.Tensor, std: float, n: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    which = torch.randint(len(modes), (n,), generator=g)
    return modes[which] + std * torch.randn(n, 2, generator=g), which


def nearest_mode(x: torch.Tensor, modes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of each point's nearest mode and the distance to it."""
    d = torch.cdist(x.float(), modes.to(x.device).float())
    dist, idx = d.min(1)
    return idx, dist


def _toy(name: str, n: int, seed: int) -> TensorDictDataset:
    modes, std = TOY_SETS[name]
    x, which = sample_mixture(modes, std, n, seed)
    info = DataInfo(
        name=name,
        shape=(2,),
        num_classes=0,
        value_range=None,
        kind="vector",
        modes=tuple(map(tuple, modes.tolist())),
        mode_std=std,
        extractor="pixels",
        domain="toy2d",
    )
    return TensorDictDataset({"image": x, "mode": which}, info)


@DATASETS.register("ring8", description="8 Gaussians on a circle of radius 2, std 0.02")
def ring8(n: int = 50_000, seed: int = 0) -> TensorDictDataset:
    return _toy("ring8", n, seed)


@DATASETS.register("grid25", description="5x5 grid of Gaussians, spacing 2, std 0.05")
def grid25(n: int = 50_000, seed: int = 0) -> TensorDictDataset:
    return _toy("grid25", n, seed)
