"""Mode statistics on toy 2-D mixtures, as reported by VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018): modes covered, fraction of high-quality samples, KL to uniform."""

from __future__ import annotations

import math

import torch

from ganarium.data import DataInfo
from ganarium.data.toy2d import nearest_mode

COVER_SHARE = 0.25


def toy2d_metrics(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    """``high_quality``: fraction of samples within 3 std of their nearest mode.
    ``modes_covered``: modes that receive at least 25% of their fair share (N / K) of
    high-quality samples, so a mode hit by a stray handful does not count.
    ``mode_kl``: KL(histogram of high-quality samples over modes || uniform), smoothed by one
    count per mode so an empty mode gives a finite value."""
    modes = torch.tensor(info.extras["modes"], dtype=torch.float32)
    std = float(info.extras["std"])
    x = samples.detach().float().cpu().reshape(len(samples), -1)
    idx, dist = nearest_mode(x, modes)
    hq = dist <= 3 * std
    k = len(modes)
    counts = torch.bincount(idx[hq], minlength=k).double()
    covered = int((counts >= COVER_SHARE * len(x) / k).sum())
    p = (counts + 1) / (counts.sum() + k)
    kl = float((p * (p * k).log()).sum())
    return {
        "modes_covered": covered,
        "high_quality": float(hq.double().mean()),
        "mode_kl": kl if math.isfinite(kl) else float("inf"),
    }
