"""Exact precision and recall on `shapes` (Lucic et al. 2018, "Are GANs Created Equal? A
Large-Scale Study", Sec. 5): no feature network, the distance to the data manifold itself.

The manifold is {render(v) : v in the support}, the support being the triangles the dataset draws
from (vertices in [LOW, HIGH]^2, area >= MIN_AREA). Without the support constraint an all-black
image would count as a (vanishing) triangle and be "precise" (0.035 RMSE away); with it, 0.24.

- ``manifold_distance(x)`` = min over supported triangles v of RMSE(x, render(v)): the nearest of
  20,000 rendered triangles seeds a few Adam refinements of the vertices (the renderer is
  differentiable); every candidate is projected back into the support before it is scored.
- exact precision = fraction of generated samples with distance <= ``tau``.
- exact recall = fraction of held-out real triangles that the *generator* reproduces within
  ``tau``: min over z of RMSE(G(z), x), found as Lucic et al. do by inverting G (nearest of a pool
  of G(z), then Adam on z). Recall therefore needs the generator, not only its samples: the
  nearest of a finite sample set is ~0.09 RMSE away even for perfect samples (10,000 real
  triangles, median), so a sample-based recall would measure the sample count, not the model.

``tau`` = 0.1 RMSE (in [-1, 1] units; the triangle/background contrast is 1.2). Held-out real
samples are exactly on the manifold (distance ~0.002, the optimiser's residual), so a percentile
of their distances would accept only pixel-exact images; 0.1 is instead about the distance
between a real triangle and its nearest neighbour among 10,000 others, i.e. "as close to a
triangle as the training set's own triangles are to each other". Uniform noise is >= 0.88 away.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import torch

from ganarium.data.shapes import HIGH, LOW, MIN_AREA, random_vertices, render, triangle_area
from ganarium.metrics import DOMAINS, Domain

TAU = 0.1
BANK = 20_000  # rendered triangles used to start the search near the answer
BANK_SEED = 987_654  # apart from any data seed, so the bank never contains the test images
STARTS = 4  # refinements per image, from its nearest bank triangles
STEPS = 60
CHUNK = 256  # images optimised together (bounds memory)

Generator = Callable[[torch.Tensor], torch.Tensor]  # z (B, z_dim) -> images (B, C, H, W)


@lru_cache(maxsize=4)
def _bank(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    v = random_vertices(BANK, torch.Generator().manual_seed(BANK_SEED))
    return v, render(v, size).flatten(1)


def _rmse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).pow(2).flatten(1).mean(1).sqrt()


def project_to_support(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(vertices moved into the support, mask of those that made it): clamp into the box, then
    grow slivers about their centroid up to MIN_AREA (a rare few cannot grow inside the box)."""
    v = v.clamp(LOW, HIGH)
    centre = v.mean(1, keepdim=True)
    grow = (MIN_AREA / triangle_area(v).clamp_min(1e-12)).sqrt().clamp_min(1.0)
    v = (centre + (v - centre) * grow[:, None, None]).clamp(LOW, HIGH)
    return v, triangle_area(v) >= MIN_AREA * (1 - 1e-4)


def _to_box(u: torch.Tensor) -> torch.Tensor:
    return LOW + (HIGH - LOW) * torch.sigmoid(u)


def _from_box(v: torch.Tensor) -> torch.Tensor:
    return torch.logit(((v - LOW) / (HIGH - LOW)).clamp(1e-3, 1 - 1e-3))


def _refine(x: torch.Tensor, v0: torch.Tensor, steps: int) -> torch.Tensor:
    """RMSE of (n, 1, S, S) images to the best of their (n, k, 3, 2) start triangles after Adam."""
    n, k, size = len(x), v0.shape[1], x.shape[-1]
    target = x.repeat_interleave(k, 0)
    with torch.enable_grad():
        # sigmoid keeps vertices in the box; a hinge keeps the area up during the search
        u = _from_box(v0.reshape(-1, 3, 2)).requires_grad_(True)
        opt = torch.optim.Adam([u], lr=0.2)
        # large steps first (the start may be a vertex ordering away), then settle: residuals on
        # real triangles are ~0.002 RMSE median, 0.012 max, far below TAU
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=0.004)
        for _ in range(steps):
            v = _to_box(u)
            err = (render(v, size) - target).pow(2).flatten(1).mean(1)
            loss = err + torch.relu(MIN_AREA - triangle_area(v))
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
            schedule.step()
    with torch.no_grad():
        v, ok = project_to_support(_to_box(u))
        d = _rmse(render(v, size), target).masked_fill(~ok, float("inf"))
    return d.reshape(n, k).min(1).values


@torch.no_grad()
def manifold_distance(
    images: torch.Tensor, starts: int = STARTS, steps: int = STEPS
) -> torch.Tensor:
    """(N,) RMSE of each (N, 1, H, W) image in [-1, 1] to the nearest supported triangle."""
    if images.dim() != 4 or images.shape[1] != 1 or images.shape[-1] != images.shape[-2]:
        raise ValueError(f"shapes images are (N, 1, S, S), got {tuple(images.shape)}")
    x = images.detach().float().cpu()
    bank_v, bank_x = _bank(x.shape[-1])
    out = []
    for i in range(0, len(x), CHUNK):
        xi = x[i : i + CHUNK]
        d_bank, idx = torch.cdist(xi.flatten(1), bank_x).topk(starts, largest=False)
        d_bank = d_bank[:, 0] / xi[0].numel() ** 0.5  # the bank triangles are in the support
        out.append(torch.minimum(d_bank, _refine(xi, bank_v[idx], steps)))
    return torch.cat(out)


def exact_precision(fake: torch.Tensor, tau: float = TAU) -> float:
    """Fraction of generated shapes images within ``tau`` RMSE of the data manifold."""
    return float((manifold_distance(fake) <= tau).double().mean())


def inversion_distance(
    generator: Generator,
    z_dim: int,
    real: torch.Tensor,
    starts: int = 4,
    pool: int = 2048,
    steps: int = 100,
    seed: int = 0,
) -> torch.Tensor:
    """(N,) RMSE of each real image to the closest G(z): the nearest of ``pool`` samples seeds
    ``starts`` Adam runs on z. z is kept inside the ball of radius sqrt(z_dim) + 3, where the
    N(0, I) prior puts all but ~1e-4 of its mass, so recall counts only what G makes from
    plausible codes."""
    x = real.detach().float().cpu()
    n = len(x)
    radius = z_dim**0.5 + 3.0
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z_pool = torch.randn(pool, z_dim, generator=g)
        samples = torch.cat([generator(z).float().cpu() for z in z_pool.split(256)]).flatten(1)
        d_pool, idx = torch.cdist(x.flatten(1), samples).topk(starts, largest=False)
    best = d_pool[:, 0] / x[0].numel() ** 0.5
    target = x.repeat_interleave(starts, 0)
    with torch.enable_grad():
        z = z_pool[idx.reshape(-1)].clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=0.05)
        for _ in range(steps):
            err = (generator(z).float().cpu() - target).pow(2).flatten(1).mean(1)
            opt.zero_grad()
            err.sum().backward()
            opt.step()
            with torch.no_grad():
                z.mul_((radius / z.norm(dim=1, keepdim=True).clamp_min(1e-12)).clamp(max=1.0))
    with torch.no_grad():
        d = _rmse(generator(z).float().cpu(), target).reshape(n, starts).min(1).values
    return torch.minimum(best, d)


def exact_recall(
    generator: Generator,
    z_dim: int,
    size: int,
    n_real: int = 200,
    seed: int = 1,
    tau: float = TAU,
) -> float:
    """Fraction of ``n_real`` held-out triangles (a seed no training set uses) that ``generator``
    reproduces within ``tau`` RMSE."""
    from ganarium.data.shapes import shapes

    real = shapes(n=n_real, size=size, seed=10_000 + seed).tensors["image"]
    return float((inversion_distance(generator, z_dim, real) <= tau).double().mean())


def compare_with_knn(
    fake: torch.Tensor,
    real: torch.Tensor,
    k: int = 5,
    generator: Generator | None = None,
    z_dim: int = 0,
) -> dict[str, float]:
    """Exact precision (and exact recall, given the generator) next to the k-NN estimates of
    Kynkäänniemi et al. 2019 on raw pixels of the same samples, to see how far the feature-space
    estimate is from the truth."""
    from ganarium.metrics.prdc import prdc

    knn = prdc(real.flatten(1), fake.detach().float().cpu().flatten(1), k=k)
    out = {
        "exact_precision": exact_precision(fake),
        "knn_precision": knn["precision"],
        "knn_recall": knn["recall"],
    }
    if generator is not None:
        out["exact_recall"] = exact_recall(generator, z_dim, fake.shape[-1])
    return out


DOMAINS.add(
    "shapes", Domain(exact=lambda samples, info: {"exact_precision": exact_precision(samples)})
)
