"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs",
Sec. 3.2): a layer that lets the discriminator compare each sample with the rest of its batch,
so a generator that collapses to one mode is easy to spot."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """f (B, A) -> [f, o(f)] (B, A + num_kernels).

    M_i = f_i T with T of shape (A, num_kernels * kernel_dim); c_b(i, j) = exp(-||M_i,b - M_j,b||_1);
    o(f_i)_b = sum_{j != i} c_b(i, j). Works on any discriminator's ``features``.
    """

    def __init__(self, in_features: int, num_kernels: int = 16, kernel_dim: int = 8) -> None:
        super().__init__()
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.1)
        self.out_features = in_features + num_kernels

    def forward(self, f: Tensor) -> Tensor:
        m = (f @ self.T).view(-1, self.num_kernels, self.kernel_dim)  # (B, nk, kd)
        l1 = (m[:, None] - m[None, :]).abs().sum(-1)  # (B, B, nk)
        # subtract exp(0) = 1 for each sample's comparison with itself
        o = torch.exp(-l1).sum(1) - 1.0  # (B, nk)
        return torch.cat([f, o], 1)


class MinibatchStddev(nn.Module):
    """Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", Sec. 3):
    x (B, C, H, W) -> (B, C + 1, H, W), the extra channel holding, for each group of
    ``group_size`` samples, the standard deviation of every feature over the group averaged over
    features and pixels. A collapsed generator's groups show ~0, real data's do not.

    Batches that are no multiple of ``group_size`` use its largest divisor that divides B.
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8) -> None:
        super().__init__()
        self.group_size, self.eps = group_size, eps

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        g = next(k for k in range(min(self.group_size, b), 0, -1) if b % k == 0)
        y = x.float().view(g, -1, c, h, w)  # sample i is in group i % (B / g), as in the paper
        std = (y.var(0, unbiased=False) + self.eps).sqrt()  # (B/g, C, H, W)
        stat = std.mean((1, 2, 3)).to(x.dtype)  # (B/g,)
        stat = stat.repeat(g)[:, None, None, None].expand(b, 1, h, w)
        return torch.cat([x, stat], 1)
