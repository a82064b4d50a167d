"""CutMix consistency regularisation for a per-pixel discriminator (Schönfeld et al. 2020,
"A U-Net Based Discriminator for Generative Adversarial Networks", Sec. 3.2, Eq. 5-7).

A real and a fake image are mixed with a rectangular CutMix mask M (1 = real). The decoder of a
U-Net discriminator should then say "real" exactly where M = 1 (its target is M), and its
per-pixel output on the mix should equal the mix of its outputs on the two images (Eq. 7):
    L_cons = || D_dec(mix(x, G(z), M)) - mix(D_dec(x), D_dec(G(z)), M) ||^2.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def cutmix_mask(
    n: int, height: int, width: int, device: torch.device | str = "cpu", generator=None
) -> Tensor:
    """(n, 1, H, W) masks, 1 outside and 0 inside one random box whose area share is
    1 - lambda, lambda ~ U(0, 1) (Yun et al. 2019, as used by the paper)."""
    mask = torch.ones(n, 1, height, width, device=device)
    lam = torch.rand(n, generator=generator)
    for i in range(n):
        cut = math.sqrt(1.0 - float(lam[i]))
        bh, bw = int(height * cut), int(width * cut)
        cy = int(torch.randint(height, (1,), generator=generator))
        cx = int(torch.randint(width, (1,), generator=generator))
        y0, y1 = max(cy - bh // 2, 0), min(cy + bh // 2, height)
        x0, x1 = max(cx - bw // 2, 0), min(cx + bw // 2, width)
        mask[i, :, y0:y1, x0:x1] = 0.0
    return mask


def cutmix(a: Tensor, b: Tensor, mask: Tensor) -> Tensor:
    """mix(a, b, M) = M * a + (1 - M) * b, elementwise with M broadcast over channels."""
    return mask * a + (1 - mask) * b


def cutmix_consistency(d_mixed: Tensor, d_real: Tensor, d_fake: Tensor, mask: Tensor) -> Tensor:
    """Eq. 7: mean squared gap between D_dec of the mix and the mix of D_dec's outputs.

    All per-pixel outputs are (B, 1, H, W) logits; gradients flow into both sides, as the
    equation is written.
    """
    return (d_mixed - cutmix(d_real, d_fake, mask)).pow(2).mean()
