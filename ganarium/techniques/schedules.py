"""Ramps: a weight or rate as a pure function of the training step, so a resumed run continues
where it was without extra state (beside ``ganarium.nn.progressive.GrowthSchedule``).

``SigmoidRamp`` is the ramp-up of the mean teacher's consistency weight (Laine & Aila 2017,
"Temporal Ensembling for Semi-Supervised Learning", Sec. 3.1; Tarvainen & Valpola 2017);
``LinearRamp`` goes from one value to another over a span of steps. ``StallHalving`` is the
exception with state: a learning-rate factor that halves when a measure stalls (BEGAN, Sec. 4.1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Tensor


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


class StallHalving:
    """A learning-rate factor that halves when a measure stops reaching new lows.

    ``add`` collects the measure of each step; once a step past a window of ``window`` steps
    arrives (``close_before``), the window's mean is compared with the lowest so far. A window
    without a new lowest adds ``window`` stalled steps; at ``patience`` stalled steps the factor
    halves (not below ``floor``) and the count starts again."""

    def __init__(self, patience: int, window: int, floor: float) -> None:
        self.patience, self.window, self.floor = patience, window, floor
        self.factor, self.best, self.stalled = 1.0, math.inf, 0
        self.block, self.count = -1, 0
        self.total: Tensor | float = 0.0

    def add(self, value: Tensor, step: int) -> None:
        """Collect one measure of ``step`` (several with micro-batches: they are averaged)."""
        self.total = value.detach().double() + self.total
        self.count += 1
        self.block = step // self.window

    def close_before(
        self,
        step: int,
        mean_over_processes: Callable[[dict[str, float]], dict[str, float]] = lambda v: v,
    ) -> None:
        """Judge the window collected so far once ``step`` lies past it; every process judges
        the window's mean over processes (``StepContext.mean_over_processes``), so all agree."""
        if self.count == 0 or step // self.window == self.block:
            return
        mean = mean_over_processes({"total": float(self.total)})["total"] / self.count
        self.total, self.count = 0.0, 0
        if mean < self.best:
            self.best, self.stalled = mean, 0
            return
        self.stalled += self.window
        if self.stalled >= self.patience:
            self.factor, self.stalled = max(self.factor / 2, self.floor), 0

    KEYS = ("factor", "best", "stalled", "block", "count", "total")

    def state_dict(self) -> dict[str, Any]:
        """Numbers only (checkpoints load with weights_only); the pending sum as a float."""
        return {k: getattr(self, k) for k in self.KEYS} | {"total": float(self.total)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in self.KEYS:
            setattr(self, key, state[key])
