"""Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs", Eq. 4 with the
kernel of Sec. 5): the unbiased MMD^2 estimate with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets."""

from __future__ import annotations

import numpy as np

from ganarium.metrics import METRICS
from ganarium.metrics.fid import ArrayLike, as_numpy


def polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of (m, d) and (n, d) samples: the diagonal k(x_i, x_i) is left out of the
    within-set means, so the estimate is zero in expectation for one distribution."""
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


@METRICS.register("kid", paper="Binkowski et al. 2018", year=2018, input="features")
def kernel_inception_distance(
    real_features: ArrayLike,
    fake_features: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over ``subsets`` random subsets of both feature sets.

    The subset size is clipped to the smaller set, so small evaluations still run. When both sets
    are no larger than ``subset_size`` every subset is the whole set, so there is no spread to
    measure: the std is NaN ("n/a" when printed; torch-fidelity reports a meaningless 0 there).
    Evaluate with more samples than ``subset_size`` for a meaningful spread.
    """
    r, f = as_numpy(real_features), as_numpy(fake_features)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(f"need (N, D) features of one D, got {r.shape} and {f.shape}")
    m = min(subset_size, len(r), len(f))
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    vals = [
        polynomial_mmd2_unbiased(
            r[rng.choice(len(r), m, replace=False)], f[rng.choice(len(f), m, replace=False)]
        )
        for _ in range(subsets)
    ]
    whole_sets = m == len(r) and m == len(f)
    return float(np.mean(vals)), (float("nan") if whole_sets else float(np.std(vals)))
