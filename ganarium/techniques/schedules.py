"""Ramps: a weight or rate as a pure function of the training step, so a resumed run continues
where it was without extra state (beside ``ganarium.nn.progressive.GrowthSchedule``).

``SigmoidRamp`` is the ramp-up of the mean teacher's consistency weight (Laine & Aila 2017,
"Temporal Ensembling for Semi-Supervised Learning", Sec. 3.1; Tarvainen & Valpola 2017);
``LinearRamp`` goes from one value to another over a span of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SigmoidRamp:
    """exp(-5 (1 - t)^2) with t = step / ``length`` clipped to [0, 1]: exp(-5) at step 0,
    1 from step ``length`` on (a ``length`` of 0 counts as 1)."""

    length: int

    def at(self, step: int) -> float:
        t = min(1.0, step / max(1, self.length))
        return math.exp(-5.0 * (1.0 - t) ** 2)


@dataclass(frozen=True)
class LinearRamp:
    """``low`` until step ``start``, then linearly to ``high`` at step ``start + length``, and
    ``high`` after (a ``length`` of 0 jumps at ``start``)."""

    start: int
    length: int
    low: float = 0.0
    high: float = 1.0

    def at(self, step: int) -> float:
        if step < self.start:
            return self.low
        if self.length <= 0 or step >= self.start + self.length:
            return self.high
        return self.low + (self.high - self.low) * (step - self.start) / self.length
