"""Exact precision and recall on `shapes` (Lucic et al. 2018, Sec. 5): no feature network, the
distance to the data manifold itself.

- distance(x) = min over triangles v of RMSE(x, render(v)), found by batched Adam from several
  random starts (the renderer is differentiable);
- precision = fraction of generated samples with distance <= TAU;
- recall = fraction of held-out real triangles the generator can reproduce within TAU, found as
  Lucic et al. do by inverting it: min over z of RMSE(G(z), x), by batched Adam from several
  random z. Recall therefore needs the generator, not only its samples.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganarium.data.shapes import random_vertices, render

TAU = 0.1  # RMSE in [-1, 1] units: a visibly different triangle is far above, a faithful one below
RESTARTS = 16
STEPS = 120


def manifold_distance(
    images: torch.Tensor, restarts: int = RESTARTS, steps: int = STEPS, seed: int = 0
) -> torch.Tensor:
    """RMSE of each image (N, 1, H, W) to its best-fitting triangle."""
    x = images.detach().float().cpu()
    n, size = len(x), x.shape[-1]
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        v = random_vertices(n * restarts, g).reshape(n, restarts, 3, 2).requires_grad_(True)
        opt = torch.optim.Adam([v], lr=0.02)
        target = x[:, None].expand(-1, restarts, -1, -1, -1).reshape(n * restarts, 1, size, size)
        for _ in range(steps):
            err = (render(v.reshape(-1, 3, 2), size) - target).pow(2).mean((1, 2, 3))
            opt.zero_grad()
            err.sum().backward()
            opt.step()
    with torch.no_grad():
        err = (
            (render(v.reshape(-1, 3, 2), size) - target).pow(2).mean((1, 2, 3)).reshape(n, restarts)
        )
    return err.min(1).values.sqrt()


def exact_precision(fake: torch.Tensor) -> float:
    return float((manifold_distance(fake) <= TAU).double().mean())


def inversion_distance(
    generator: Callable[[torch.Tensor], torch.Tensor],
    z_dim: int,
    real: torch.Tensor,
    restarts: int = 8,
    steps: int = STEPS,
    seed: int = 0,
) -> torch.Tensor:
    """RMSE of each real image to the closest output of ``generator`` (z -> images), min over z."""
    x = real.detach().float().cpu()
    n = len(x)
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        z = torch.randn(n * restarts, z_dim, generator=g).requires_grad_(True)
        opt = torch.optim.Adam([z], lr=0.05)
        target = x.repeat_interleave(restarts, 0)
        for _ in range(steps):
            err = (generator(z) - target).pow(2).flatten(1).mean(1)
            opt.zero_grad()
            err.sum().backward()
            opt.step()
    with torch.no_grad():
        err = (generator(z) - target).pow(2).flatten(1).mean(1).reshape(n, restarts)
    return err.min(1).values.sqrt()


def exact_recall(
    generator: Callable[[torch.Tensor], torch.Tensor],
    z_dim: int,
    size: int,
    n_real: int = 200,
    seed: int = 1,
) -> float:
    from ganarium.data.shapes import shapes

    real = shapes(n=n_real, size=size, seed=10_000 + seed).tensors["image"]
    return float((inversion_distance(generator, z_dim, real) <= TAU).double().mean())


def compare_with_knn(fake: torch.Tensor, real: torch.Tensor, k: int = 5) -> dict[str, float]:
    """Exact precision next to the k-NN estimates (Kynkäänniemi et al.) on raw pixels, to see how
    far the feature-free estimate is from the truth on the same samples."""
    from ganarium.metrics.prdc import prdc

    knn = prdc(real.flatten(1), fake.detach().float().cpu().flatten(1), k=k)
    return {
        "exact_precision": exact_precision(fake),
        "knn_precision": knn["precision"],
        "knn_recall": knn["recall"],
    }
