"""Mode count on stacked digits: each channel read by the project's digit classifier; a mode
(one of 1,000 digit triples) is covered when at least one sample falls in it, and the KL of the
mode histogram to uniform is reported, as in the VEEGAN and PacGAN tables."""

from __future__ import annotations

import math

import torch

from ganarium.metrics.digits import classify

N_MODES = 1000


def stacked_labels(samples: torch.Tensor) -> torch.Tensor:
    if samples.dim() != 4 or samples.shape[1] != 3:
        raise ValueError(f"stacked digits are (N, 3, H, W), got {tuple(samples.shape)}")
    digits = [classify(samples[:, c : c + 1])[1].argmax(1) for c in range(3)]
    return digits[0] * 100 + digits[1] * 10 + digits[2]


def stacked_mode_metrics(samples: torch.Tensor) -> dict[str, float]:
    counts = torch.bincount(stacked_labels(samples), minlength=N_MODES).double()
    p = counts / counts.sum()
    nz = p > 0
    kl = float((p[nz] * (p[nz] * N_MODES).log()).sum())
    return {
        "modes_covered": float((counts > 0).sum()),
        "mode_kl": kl if math.isfinite(kl) else float("inf"),
    }
