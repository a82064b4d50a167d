"""Exponential moving averages of a net's weights, each with its own decay.

The Trainer keeps one of G for sampling (``train.ema_*``); a recipe keeps its own where the
average is part of the method, e.g. the mean teacher of Tarvainen & Valpola 2017 ("Mean teachers
are better role models"), an average of a classifier that the classifier learns to agree with.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

Decay = float | Callable[[int], float]


@torch.no_grad()
def ema_update(shadow: nn.Module, net: nn.Module, decay: float) -> None:
    """shadow <- decay * shadow + (1 - decay) * net, parameter by parameter; buffers (BN
    statistics) are copied."""
    for p_s, p in zip(shadow.parameters(), net.parameters()):
        p_s.lerp_(p.detach(), 1.0 - decay)
    for b_s, b in zip(shadow.buffers(), net.buffers()):
        b_s.copy_(b)


class MovingAverage:
    """A frozen copy of ``net`` (``average``) that ``update(step)`` moves towards it with
    ``decay``: a number, or a function of the step (a schedule).

    The recipe registers ``average`` as one of its modules under the name its checkpoints use
    (``self.C_teacher = self.teacher.average``); this object only remembers which net it follows.
    """

    def __init__(self, net: nn.Module, decay: Decay) -> None:
        if isinstance(decay, (int, float)) and not 0.0 <= decay <= 1.0:
            raise ValueError(f"an EMA decay must be in [0, 1], got {decay}")
        self.net = net
        self.decay = decay
        self.average = copy.deepcopy(net).requires_grad_(False)

    def decay_at(self, step: int) -> float:
        return float(self.decay(step)) if callable(self.decay) else float(self.decay)

    def update(self, step: int = 0) -> None:
        """One averaging step after the net's optimizer step ``step``."""
        ema_update(self.average, self.net, self.decay_at(step))
