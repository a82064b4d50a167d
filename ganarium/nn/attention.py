"""Self-attention over feature-map positions (Zhang et al. 2019, "Self-Attention Generative
Adversarial Networks", Sec. 3, Eq. 1-3), used by SAGAN and BigGAN in both nets."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.nn.norms import sn


class SelfAttention(nn.Module):
    """(B, C, H, W) -> (B, C, H, W): y = x + gamma * v(sum_i beta_ji h(x_i)).

    f, g (queries/keys) map to C/8 channels and h to C/2, v maps back to C, as in the authors'
    code; beta = softmax(f(x)^T g(x)) over positions (Eq. 1). gamma starts at 0 so a fresh block
    is the identity and the net first relies on local convolutions (Eq. 3).

    ``pooled`` max-pools keys g(x) and values h(x) 2x2, so each of the N queries attends to N/4
    positions (as BigGAN's code does; H and W must be even).
    """

    def __init__(self, channels: int, spectral: bool = True, pooled: bool = False) -> None:
        super().__init__()
        self.pooled = pooled
        c_qk, c_v = max(1, channels // 8), max(1, channels // 2)
        self.f = sn(nn.Conv2d(channels, c_qk, 1, bias=False), spectral)
        self.g = sn(nn.Conv2d(channels, c_qk, 1, bias=False), spectral)
        self.h = sn(nn.Conv2d(channels, c_v, 1, bias=False), spectral)
        self.v = sn(nn.Conv2d(c_v, channels, 1, bias=False), spectral)
        self.gamma = nn.Parameter(torch.zeros(()))

    def _pool(self, t: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(t, 2) if self.pooled else t

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """beta (B, N, M), N = H*W, M = N (N/4 when pooled): row j is where output position j
        attends."""
        q = self.f(x).flatten(2)  # (B, c_qk, N)
        k = self._pool(self.g(x)).flatten(2)  # (B, c_qk, M)
        return F.softmax(torch.bmm(q.transpose(1, 2), k), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, hgt, wid = x.shape
        beta = self.attention_map(x)  # (B, N, M)
        val = self._pool(self.h(x)).flatten(2)  # (B, c_v, M)
        o = torch.bmm(val, beta.transpose(1, 2)).view(b, -1, hgt, wid)
        return x + self.gamma * self.v(o)
