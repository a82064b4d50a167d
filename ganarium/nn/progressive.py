"""Progressive growing (Karras et al. 2018, "Progressive Growing of GANs", Sec. 2): resolution
levels added one at a time, each faded in smoothly. While level l fades in, the output is
(1 - alpha) * (the old level's output, upsampled) + alpha * (the new level's output), alpha going
0 -> 1 linearly over the fade; then the level trains alone ("stabilises") before the next.

``GrowthSchedule`` maps a training step to (level, alpha); it is a pure function of the step,
so a resumed run continues at the same stage without any extra state.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


def fade_in(old: Tensor, new: Tensor, alpha: float | Tensor) -> Tensor:
    """(1 - alpha) old + alpha new: the old resolution's output at alpha 0, the new one's at 1."""
    if isinstance(alpha, float) and alpha in (0.0, 1.0):  # exactly one of them, no blend
        return new if alpha == 1.0 else old
    return old + alpha * (new - old)


@dataclass(frozen=True)
class GrowthSchedule:
    """Level 0 trains for ``stable_steps``; every later level fades in over ``fade_steps`` and
    then trains alone for ``stable_steps``; the last level (``levels - 1``) stays to the end."""

    levels: int
    fade_steps: int
    stable_steps: int

    def at(self, step: int) -> tuple[int, float]:
        """(level, alpha) at ``step``: alpha in [0, 1) while fading in, 1.0 otherwise."""
        if step < self.stable_steps or self.levels == 1:
            return 0, 1.0
        period = self.fade_steps + self.stable_steps
        level, into = divmod(step - self.stable_steps, period)
        level += 1
        if level >= self.levels:
            return self.levels - 1, 1.0
        alpha = into / self.fade_steps if into < self.fade_steps else 1.0
        return level, float(alpha)

    def final_step(self) -> int:
        """The first step at which the last level trains alone (alpha 1)."""
        if self.levels == 1:
            return 0
        period = self.fade_steps + self.stable_steps
        return self.stable_steps + (self.levels - 2) * period + self.fade_steps
