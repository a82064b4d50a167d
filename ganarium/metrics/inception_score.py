"""Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 4):
IS = exp(E_x KL(p(y|x) || p(y))), averaged over splits."""

from __future__ import annotations

import torch

from ganarium.metrics import METRICS
from ganarium.metrics.fid import ArrayLike


@METRICS.register("is", paper="Salimans et al. 2016", year=2016, input="logits")
def inception_score(
    logits_or_probs: ArrayLike, splits: int = 10, probs: bool = False
) -> tuple[float, float]:
    """(mean, std) over ``splits`` equal parts of (N, K) class logits; ``probs=True`` when rows
    already sum to 1. Ranges from 1 (one prediction for all) to K (confident and balanced)."""
    p = torch.as_tensor(logits_or_probs).double()
    if p.dim() != 2:
        raise ValueError(f"need (N, K) logits or probabilities, got {tuple(p.shape)}")
    p = p if probs else p.softmax(1)
    scores = []
    for part in p.chunk(splits):
        py = part.mean(0, keepdim=True)
        # clamp: 0 * log 0 must count as 0, not nan
        kl = (part * (part.clamp_min(1e-12).log() - py.clamp_min(1e-12).log())).sum(1)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    # population std over splits, as the original TF code (np.std)
    return float(s.mean()), float(s.std(unbiased=False)) if len(s) > 1 else 0.0
