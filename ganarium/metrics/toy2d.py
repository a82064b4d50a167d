"""Mode statistics on toy 2-D mixtures, as reported by VEEGAN (Srivastava et al. 2017, Sec. 5.1)
and PacGAN (Lin et al. 2018, Table 1): modes covered, fraction of high-quality samples, and the
KL of the mode histogram to uniform."""

from __future__ import annotations

import math

import torch

from ganarium.data import DataInfo
from ganarium.data.toy2d import nearest_mode
from ganarium.metrics import DOMAINS, METRICS, Domain

HQ_STDS = 3.0  # a sample is high quality within 3 std of a mode (VEEGAN's rule)
COVER_SHARE = 0.25  # a mode is covered with >= 25% of its fair share N / K of HQ samples


@METRICS.register("toy2d", paper="Srivastava et al. 2017", year=2017, input="toy samples")
def toy2d_metrics(samples: torch.Tensor, info: DataInfo) -> dict[str, float | int]:
    """Mode statistics of (N, 2) ``samples`` against the modes in ``info.modes``.

    ``high_quality``: fraction of samples within 3 std of their nearest mode (real data score
    1 - exp(-4.5) = 0.989, the 2-D Gaussian mass inside 3 std).
    ``modes_covered`` (int): modes that receive at least 25% of their fair share (N / K) of
    high-quality samples. A fixed count (VEEGAN's 20 of 2,500) would make the rule depend on
    N; a share of N / K does not, and a stray handful of samples does not count as a mode.
    ``mode_kl``: KL(histogram of high-quality samples over modes || uniform), smoothed by one
    count per mode so that empty modes (or no HQ sample at all) give a finite value; ~0 for
    real data, about log K for a generator collapsed on one mode.
    """
    modes = torch.as_tensor(info.modes, dtype=torch.float32)
    std = float(info.mode_std)
    x = samples.detach().float().cpu().reshape(len(samples), -1)
    if x.shape[1] != modes.shape[1]:
        raise ValueError(f"samples have {x.shape[1]} coordinates, the modes {modes.shape[1]}")
    idx, dist = nearest_mode(x, modes)
    hq = dist <= HQ_STDS * std
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


def _toy_periodic(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    return {k: float(v) for k, v in toy2d_metrics(samples, info).items()}


DOMAINS.add("toy2d", Domain(modes=_toy_periodic, periodic=_toy_periodic))
