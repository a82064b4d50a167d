"""How a progressively grown GAN trains through its levels (Karras et al. 2018, "Progressive
Growing of GANs", Sec. 2 and App. A.1): where a step stands (``GrowthSchedule`` over steps, or
over real images as the paper counts), the learning rate and batch of each resolution, and the
authors' reset of Adam's moments when a fade-in starts or ends. Everything is a pure function of
the step, the images seen and the previous step's stage, so a resumed run agrees with an
uninterrupted one."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.nn.progressive import GrowthSchedule, fade_in


def resolution_of(level: int) -> int:
    """The side of a level's images: 4 at level 0, doubling with each level."""
    return 4 * 2**level


@dataclass
class GrowthPlan:
    """A growing recipe's schedule options: fades and stable stretches in steps, or in real
    images (``fade_images``, ``stable_images``: both set or neither), a learning rate and a
    batch per resolution (absent resolutions keep ``lr`` / the run's batch), and ``reset``.
    Unset step lengths split the run's steps into 2 * levels - 1 equal stretches."""

    levels: int
    lr: float
    fade_steps: int = 0
    stable_steps: int = 0
    fade_images: int = 0
    stable_images: int = 0
    level_lr: dict[int, float] = field(default_factory=dict)
    level_batch: dict[int, int] = field(default_factory=dict)
    reset: bool = False

    def schedule(self, total_steps: int) -> GrowthSchedule:
        """The schedule over images when they are counted, else over steps."""
        if self.fade_images:
            fade, stable = max(1, self.fade_images), max(1, self.stable_images)
            return GrowthSchedule(self.levels, fade, stable)
        fade, stable = self.fade_steps, self.stable_steps
        if not fade or not stable:
            share = max(1, total_steps // (2 * self.levels - 1))
            fade, stable = fade or share, stable or share
        return GrowthSchedule(self.levels, fade, stable)

    def stage_at(self, step: int, images_seen: int, total_steps: int) -> tuple[int, float]:
        """(level, alpha) of a training step."""
        where = images_seen if self.fade_images else step
        return self.schedule(total_steps).at(where)

    def batch_size_at(self, images_seen: int) -> int | None:
        """The batch of the level at ``images_seen`` (None: the run's); a batch per level needs
        the schedule in images."""
        if not self.level_batch:
            return None
        level, _ = self.image_schedule.at(images_seen)
        return self.level_batch.get(resolution_of(level))

    @cached_property
    def image_schedule(self) -> GrowthSchedule:
        return self.schedule(0)

    @property
    def steers_optimizers(self) -> bool:
        return self.reset or bool(self.level_lr)

    def steer(
        self,
        optimizers: dict[str, torch.optim.Optimizer],
        step: int,
        stage: tuple[int, float],
        last: tuple[int, float],
    ) -> None:
        """Set the level's learning rate, and clear Adam's moments on the first step of a
        fade-in or of a level's stable stretch (``stage`` against the ``last`` step's)."""
        lr = self.level_lr.get(resolution_of(stage[0]), self.lr)
        for opt in optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
        if self.reset and step > 0 and (last[0], last[1] < 1.0) != (stage[0], stage[1] < 1.0):
            for opt in optimizers.values():
                opt.state.clear()


def reals_at(x: Tensor, level: int, alpha: float) -> Tensor:
    """Real images at the level's resolution, blended with the coarser one while fading in."""
    x = F.adaptive_avg_pool2d(x, resolution_of(level))
    if level == 0 or alpha >= 1.0:
        return x
    return fade_in(F.interpolate(F.avg_pool2d(x, 2), scale_factor=2), x, alpha)
