"""Inception Score (Salimans et al. 2016, Sec. 4): exp(E_x KL(p(y|x) || p(y))), averaged over splits."""

from __future__ import annotations

import torch


def inception_score(logits_or_probs, splits: int = 10, probs: bool = False) -> tuple[float, float]:
    """(mean, std) over ``splits`` equal parts; pass ``probs=True`` when rows already sum to 1."""
    p = torch.as_tensor(logits_or_probs).double()
    p = p if probs else p.softmax(1)
    scores = []
    for part in p.chunk(splits):
        py = part.mean(0, keepdim=True)
        kl = (part * (part.clamp_min(1e-12).log() - py.clamp_min(1e-12).log())).sum(1)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False)) if len(s) > 1 else 0.0
