"""`shapes`: gray filled triangles on black, after the synthetic set of Lucic et al. 2018 ("Are
GANs Created Equal?", Sec. 5), where every image's distance to the data manifold can be computed
because the generating parameters are known: the manifold is {render(v) : v = 3 vertices in
[LOW, HIGH]^2 spanning at least MIN_AREA}.

Rendering is differentiable (a soft edge half a pixel wide), so the distance of any image to the
manifold is found by optimising the vertices (see ganarium.metrics.shapes).
"""

from __future__ import annotations

import torch

from ganarium.data import DATASETS, DataInfo, TensorDictDataset

GRAY = 0.2  # triangle value in [-1, 1]; background is -1
EDGE = 0.5  # soft edge width in pixels
LOW, HIGH = 0.1, 0.9  # vertices lie in [LOW, HIGH]^2, so triangles are never cut by the border
MIN_AREA = 0.06  # in units of the unit square, so no triangle is a sliver (or an empty image)


def render(vertices: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 3, 2) vertices in [0, 1]^2 -> (B, 1, size, size) images in [-1, GRAY]."""
    t = (torch.arange(size, dtype=vertices.dtype, device=vertices.device) + 0.5) / size
    py, px = torch.meshgrid(t, t, indexing="ij")
    p = torch.stack([px, py], -1).reshape(1, 1, -1, 2)  # (1, 1, P, 2)
    a, b = vertices, vertices.roll(-1, dims=1)  # edges a -> b, (B, 3, 2)
    e = (b - a)[:, :, None, :]
    rel = p - a[:, :, None, :]
    cross = e[..., 0] * rel[..., 1] - e[..., 1] * rel[..., 0]  # (B, 3, P)
    area2 = (b - a)[:, 0, 0] * (vertices[:, 2, 1] - a[:, 0, 1]) - (b - a)[:, 0, 1] * (
        vertices[:, 2, 0] - a[:, 0, 0]
    )
    sign = torch.where(area2 >= 0, 1.0, -1.0).to(vertices.dtype)[:, None, None]
    dist = sign * cross / e.norm(dim=-1).clamp_min(1e-6)  # signed distance to each edge, inside > 0
    inside = torch.sigmoid(dist.min(1).values * size / EDGE)  # (B, P)
    img = -1 + (GRAY + 1) * inside
    return img.reshape(-1, 1, size, size)


def triangle_area(vertices: torch.Tensor) -> torch.Tensor:
    """(B, 3, 2) vertices -> (B,) areas in units of the unit square."""
    d1, d2 = vertices[:, 1] - vertices[:, 0], vertices[:, 2] - vertices[:, 0]
    return 0.5 * (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]).abs()


def random_vertices(n: int, g: torch.Generator) -> torch.Tensor:
    """``n`` triangles drawn uniformly from the data's support: vertices uniform in
    [LOW, HIGH]^2, rejected when the area is below MIN_AREA."""
    out = []
    while sum(len(o) for o in out) < n:
        v = LOW + (HIGH - LOW) * torch.rand(2 * n, 3, 2, generator=g)
        out.append(v[triangle_area(v) >= MIN_AREA])
    return torch.cat(out)[:n]


@DATASETS.register(
    "shapes", description="gray triangles with a known manifold (exact precision/recall)"
)
def shapes(n: int = 10_000, size: int = 28, seed: int = 0) -> TensorDictDataset:
    g = torch.Generator().manual_seed(seed)
    v = random_vertices(n, g)
    info = DataInfo(
        name="shapes",
        shape=(1, size, size),
        extractor="pixels",
        domain="shapes",
    )
    return TensorDictDataset({"image": render(v, size), "vertices": v}, info)
