"""Manifold metrics on features:

- improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall
  Metric for Assessing Generative Models", Eq. 1-2): a sample is "in" a set's manifold when it
  lies inside the k-NN ball of some point of that set;
- density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models", Eq. 4-5), robust to outliers in the real set;
- F_beta of precision and recall, the summary of Lucic et al. 2018 ("Are GANs Created Equal?")
  after Sajjadi et al. 2018.

Distances are computed in row blocks, so 10,000 x 10,000 sets hold 32 MB of distances at a
time (about 4 s on one CPU thread at 128 dims, 40 s at 2048; benchmarks/eval_throughput.py),
and each pair of sets is measured once:
real-real (radii), fake-fake (radii, only for recall) and real-fake (everything else).
"""

from __future__ import annotations

import torch

from ganarium.metrics import METRICS
from ganarium.metrics.fid import ArrayLike

BLOCK_ELEMENTS = 2**22  # float64 distances per block: 32 MB


def _rows_per_block(n_cols: int) -> int:
    return max(1, BLOCK_ELEMENTS // max(1, n_cols))


def _as_tensor(x: ArrayLike) -> torch.Tensor:
    # float64: the matmul form of cdist loses precision on near-duplicates in float32
    t = torch.as_tensor(x).detach().double().cpu()
    return t.reshape(len(t), -1)


def kth_neighbour_radius(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point of (N, D) ``x`` to its k-th nearest other point (self excluded)."""
    x = _as_tensor(x)
    step = _rows_per_block(len(x))
    out = []
    for i in range(0, len(x), step):
        d = torch.cdist(x[i : i + step], x)
        # the (k+1)-th smallest (the point itself is at distance 0); topk selects the same value
        # as kthvalue, which on the CPU copies the block and its indices and is 6x slower
        out.append(d.topk(k + 1, dim=1, largest=False).values[:, -1])
    return torch.cat(out)


def _cross(
    real: torch.Tensor, fake: torch.Tensor, r_real: torch.Tensor, r_fake: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """One blocked pass over real-fake distances.

    Returns, per fake sample, how many real balls contain it; per real sample, whether its own
    ball contains a fake sample (coverage); and, when ``r_fake`` is given, per real sample
    whether some fake ball contains it (recall).
    """
    in_real_balls = torch.zeros(len(fake), dtype=torch.long)
    covered = torch.zeros(len(real), dtype=torch.bool)
    in_fake_ball = None if r_fake is None else torch.zeros(len(real), dtype=torch.bool)
    step = _rows_per_block(len(fake))
    for i in range(0, len(real), step):
        d = torch.cdist(real[i : i + step], fake)  # (block, F)
        inside = d <= r_real[i : i + step, None]  # fake j inside the ball of real i
        in_real_balls += inside.sum(0)
        covered[i : i + step] = inside.any(1)
        if in_fake_ball is not None:
            in_fake_ball[i : i + step] = (d <= r_fake[None]).any(1)
    return in_real_balls, covered, in_fake_ball


def _check(real: torch.Tensor, fake: torch.Tensor, k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"need more than k={k} samples in each set ({len(real)}, {len(fake)})")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"features of different sizes: {real.shape[1]} and {fake.shape[1]}")


def f_beta(precision: float, recall: float, beta: float = 1.0) -> float:
    """F_beta = (1 + b^2) P R / (b^2 P + R); beta > 1 weighs recall more (Lucic et al. 2018)."""
    if precision <= 0 or recall <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


@METRICS.register(
    "prdc", paper="Kynkäänniemi et al. 2019; Naeem et al. 2020", year=2020, input="features"
)
def prdc(real_features: ArrayLike, fake_features: ArrayLike, k: int = 5) -> dict[str, float]:
    """precision, recall, f1 (Kynkäänniemi Eq. 1-2) and density, coverage (Naeem Eq. 4-5),
    all with one k, as in Naeem et al.'s reference code (k = 5)."""
    real, fake = _as_tensor(real_features), _as_tensor(fake_features)
    _check(real, fake, k)
    r_real, r_fake = kth_neighbour_radius(real, k), kth_neighbour_radius(fake, k)
    in_real_balls, covered, in_fake_ball = _cross(real, fake, r_real, r_fake)
    precision = float((in_real_balls > 0).double().mean())
    recall = float(in_fake_ball.double().mean())
    return {
        "precision": precision,
        "recall": recall,
        "f1": f_beta(precision, recall),
        "density": float(in_real_balls.double().sum() / (k * len(fake))),
        "coverage": float(covered.double().mean()),
    }


@METRICS.register("pr", paper="Kynkäänniemi et al. 2019", year=2019, input="features")
def precision_recall(
    real_features: ArrayLike, fake_features: ArrayLike, k: int = 3
) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019, Eq. 1-2; their k = 3) and F1."""
    m = prdc(real_features, fake_features, k=k)
    return {key: m[key] for key in ("precision", "recall", "f1")}


@METRICS.register("dc", paper="Naeem et al. 2020", year=2020, input="features")
def density_coverage(
    real_features: ArrayLike, fake_features: ArrayLike, k: int = 5
) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020, Eq. 4-5; their k = 5). Only real k-NN balls are
    used, so the fake-fake distances are never computed."""
    real, fake = _as_tensor(real_features), _as_tensor(fake_features)
    _check(real, fake, k)
    in_real_balls, covered, _ = _cross(real, fake, kth_neighbour_radius(real, k), None)
    return {
        "density": float(in_real_balls.double().sum() / (k * len(fake))),
        "coverage": float(covered.double().mean()),
    }
