"""Manifold metrics on features:

- improved precision and recall (Kynkäänniemi et al. 2019, Eq. 1-2): a sample is "in" a set's
  manifold when it lies inside the k-NN ball of some point of that set;
- density and coverage (Naeem et al. 2020, Eq. 4-5), robust to outliers in the real set;
- F1 of precision and recall, the F_beta summary of Lucic et al. 2018 / Sajjadi et al. 2018.
"""

from __future__ import annotations

import torch

CHUNK = 2048


def _as_tensor(x) -> torch.Tensor:
    return torch.as_tensor(x).detach().double().cpu()


def kth_neighbour_radius(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point (self excluded)."""
    out = []
    for i in range(0, len(x), CHUNK):
        d = torch.cdist(x[i : i + CHUNK], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(out)


def _inside_counts(
    queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor
) -> torch.Tensor:
    """For each query, how many balls (centre, radius) contain it."""
    out = []
    for i in range(0, len(queries), CHUNK):
        d = torch.cdist(queries[i : i + CHUNK], centres)
        out.append((d <= radii[None]).sum(1))
    return torch.cat(out)


def f_beta(precision: float, recall: float, beta: float = 1.0) -> float:
    if precision <= 0 or recall <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def prdc(real_features, fake_features, k: int = 5) -> dict[str, float]:
    """precision, recall, f1 (k-NN manifolds) and density, coverage, all from one k."""
    real, fake = _as_tensor(real_features), _as_tensor(fake_features)
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"need more than k={k} samples in each set")
    r_real, r_fake = kth_neighbour_radius(real, k), kth_neighbour_radius(fake, k)
    fake_in_real = _inside_counts(fake, real, r_real)
    precision = float((fake_in_real > 0).double().mean())
    recall = float((_inside_counts(real, fake, r_fake) > 0).double().mean())
    density = float(fake_in_real.double().sum() / (k * len(fake)))
    nearest_fake = torch.cat(
        [torch.cdist(real[i : i + CHUNK], fake).min(1).values for i in range(0, len(real), CHUNK)]
    )
    coverage = float((nearest_fake <= r_real).double().mean())
    return {
        "precision": precision,
        "recall": recall,
        "f1": f_beta(precision, recall),
        "density": density,
        "coverage": coverage,
    }
