"""Mode count on stacked digits (Srivastava et al. 2017, "VEEGAN", Table 2; Lin et al. 2018,
"PacGAN", Table 3): each of the three channels is read by the project's digit classifier, the
triple (d_R, d_G, d_B) is one of 1,000 modes, a mode is covered when at least one sample falls in
it, and the KL divergence of the mode histogram to uniform is reported."""

from __future__ import annotations

import math

import torch

from ganarium.metrics import DOMAINS, Domain
from ganarium.metrics.digits import classify

N_MODES = 1000


def unique_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(distinct rows, index of each row's distinct copy). Real stacked data reuse a few thousand
    base digits across 3 x 25,000 channels, and a collapsed generator repeats itself, so
    classifying each distinct image once gives the same labels at a fraction of the cost."""
    flat = x.reshape(len(x), -1)
    distinct, inverse = torch.unique(flat, dim=0, return_inverse=True)
    return distinct.reshape(-1, *x.shape[1:]), inverse


@torch.no_grad()
def stacked_labels(samples: torch.Tensor) -> torch.Tensor:
    """Mode index 100 * d_R + 10 * d_G + d_B of each (N, 3, H, W) sample in [-1, 1]."""
    if samples.dim() != 4 or samples.shape[1] != 3:
        raise ValueError(f"stacked digits are (N, 3, H, W), got {tuple(samples.shape)}")
    x = samples.detach().float().cpu()
    channels = x.transpose(0, 1).reshape(-1, 1, *x.shape[2:])  # (3N, 1, H, W), R then G then B
    distinct, inverse = unique_rows(channels)
    digits = classify(distinct)[1].argmax(1)[inverse].reshape(3, -1)
    return digits[0] * 100 + digits[1] * 10 + digits[2]


def stacked_mode_metrics(samples: torch.Tensor) -> dict[str, float]:
    """``modes_covered`` (of 1,000) and ``mode_kl`` = KL(mode histogram || uniform) in nats.

    The KL is unsmoothed, as in the VEEGAN and PacGAN tables: 0 for a perfectly balanced
    sample, log(1000) = 6.91 when every sample falls in one mode.
    """
    counts = torch.bincount(stacked_labels(samples), minlength=N_MODES).double()
    p = counts / counts.sum()
    nz = p > 0
    kl = float((p[nz] * (p[nz] * N_MODES).log()).sum())
    return {
        "modes_covered": float((counts > 0).sum()),
        "mode_kl": kl if math.isfinite(kl) else float("inf"),
    }


DOMAINS.add("stacked-digits", Domain(modes=lambda samples, info: stacked_mode_metrics(samples)))
