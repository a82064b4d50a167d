"""Fréchet distance between Gaussians fitted to features (Heusel et al. 2017, "GANs Trained by a
Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", Eq. 6):

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import linalg

from ganarium.metrics import METRICS

ArrayLike = torch.Tensor | np.ndarray  # (N, D) features or (D,) / (D, D) statistics


def as_numpy(x: ArrayLike) -> np.ndarray:
    """float64 numpy copy of a tensor or array (features are summed over many samples)."""
    return (
        x.detach().cpu().double().numpy()
        if isinstance(x, torch.Tensor)
        else np.asarray(x, np.float64)
    )


def gaussian_stats(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), covariance (D, D)) of (N, D) features, float64; covariance with N - 1."""
    f = as_numpy(features)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"need (N>=2, D) features, got shape {f.shape}")
    return f.mean(0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance(
    mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, eps: float = 1e-6
) -> float:
    """Eq. 6 above for N(mu1, sigma1) and N(mu2, sigma2).

    Raises ValueError when (S1 S2)^{1/2} has a large imaginary part, which means a covariance
    is not positive semi-definite (a bug upstream, not round-off).
    """
    mu1, mu2 = np.atleast_1d(as_numpy(mu1)), np.atleast_1d(as_numpy(mu2))
    s1, s2 = np.atleast_2d(as_numpy(sigma1)), np.atleast_2d(as_numpy(sigma2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise ValueError(
            f"mismatched shapes: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings():  # a singular product is handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1.dot(s2))
        if not np.isfinite(covmean).all():
            # singular product (e.g. fewer samples than dimensions): offset both covariances
            # slightly, as the reference implementation does
            offset = np.eye(s1.shape[0]) * eps
            covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        # round-off leaves tiny imaginary parts; the reference code tolerates 1e-3 on the diagonal
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(
                f"imaginary component {np.abs(covmean.imag).max():.3g} in the matrix square root"
            )
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@METRICS.register("fid", paper="Heusel et al. 2017", year=2017, input="features")
def fid_from_features(real_features: ArrayLike, fake_features: ArrayLike) -> float:
    """FID between two (N, D) feature sets: Eq. 6 on their fitted Gaussians."""
    return frechet_distance(*gaussian_stats(real_features), *gaussian_stats(fake_features))
