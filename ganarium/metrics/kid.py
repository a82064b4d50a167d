"""Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs", Eq. 4): the
unbiased MMD^2 estimate with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged
over random subsets."""

from __future__ import annotations

import numpy as np
import torch


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def kernel_inception_distance(
    real_features, fake_features, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over ``subsets`` random subsets of both feature sets."""
    r = np.asarray(
        real_features.detach().cpu() if isinstance(real_features, torch.Tensor) else real_features,
        np.float64,
    )
    f = np.asarray(
        fake_features.detach().cpu() if isinstance(fake_features, torch.Tensor) else fake_features,
        np.float64,
    )
    m = min(subset_size, len(r), len(f))
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    vals = [
        _mmd2_unbiased(
            r[rng.choice(len(r), m, replace=False)], f[rng.choice(len(f), m, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(vals)), float(np.std(vals))
