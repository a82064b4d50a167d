"""Improved techniques for training GANs (Salimans et al. 2016) as small reusable pieces any
recipe can switch on: one-sided label smoothing (Sec. 3.4) and historical averaging (Sec. 3.3).
Feature matching (Sec. 3.1) is ``ganarium.techniques.regularizers.feature_matching``; minibatch
discrimination (Sec. 3.2) is the layer ``ganarium.nn.minibatch.MinibatchDiscrimination``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def smoothed_real_target(smoothing: float) -> float:
    """The target for real samples under one-sided smoothing: 1 - smoothing (fakes stay at 0,
    since smoothing them would reward the generator for staying where it is; Sec. 3.4)."""
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"label smoothing {smoothing} must be in [0, 1)")
    return 1.0 - smoothing


def one_sided_smoothed_d_loss(real_logits: Tensor, fake_logits: Tensor, smoothing: float) -> Tensor:
    """-E[(1-s) log D(x) + s log(1 - D(x))] - E log(1 - D(G(z))): the minimax D loss with real
    targets 1 - s and fake targets 0."""
    target = smoothed_real_target(smoothing)
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, target))
    return real + F.softplus(fake_logits).mean()


class HistoricalAverage:
    """||theta - (1/t) sum_i theta_i||^2 over a module's parameters (Sec. 3.3).

    Holds the running average outside the module (so it is no weight of the net); call
    ``penalty()`` inside a loss and ``update()`` after each optimizer step.
    """

    def __init__(self, params: Iterable[nn.Parameter]) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.average = [p.detach().clone() for p in self.params]
        self.count = 1

    def penalty(self) -> Tensor:
        total = self.params[0].new_zeros(())
        for p, avg in zip(self.params, self.average):
            total = total + (p - avg.to(p.device)).pow(2).sum()
        return total

    def state_dict(self) -> dict[str, Any]:
        return {"average": list(self.average), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.average = [a.to(p.device) for a, p in zip(state["average"], self.params)]
        self.count = int(state["count"])

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        for p, avg in zip(self.params, self.average):
            if avg.device != p.device:
                avg.data = avg.to(p.device)
            avg.add_(p.detach() - avg, alpha=1.0 / self.count)
