"""The divergence guard: the first non-finite loss of each phase is remembered on the device
(no host sync per phase) and raised, naming the step and phase, at the next log or checkpoint,
before anything is written; under fp16 a loss scale driven below ``FP16_MIN_SCALE`` and, at
checkpoint time, non-finite parameters count as divergence too."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from ganarium.errors import DivergenceError
from ganarium.training.config import TrainConfig
from ganarium.training.strategy import SingleDevice

FP16_MIN_SCALE = 1e-3  # a loss scale driven this low means every step is non-finite


class DivergenceGuard:
    """Watches the losses of one Trainer; ``strategy`` agrees on the verdict over processes."""

    def __init__(self, cfg: TrainConfig, strategy: SingleDevice) -> None:
        self.cfg, self.strategy = cfg, strategy
        # per phase: the first step with a non-finite loss (-1: none yet) and that loss
        self.first_nonfinite: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def watch(self, phase: str, loss: torch.Tensor, step: int) -> None:
        """Remember, on the device and without a host sync, the first step whose ``phase`` loss
        was non-finite. Under fp16 a non-finite loss is the loss scaler's business (the step is
        skipped, the scale lowered)."""
        if self.cfg.amp == "fp16":
            return
        loss = loss.detach().float()
        bad = ~torch.isfinite(loss)
        if phase not in self.first_nonfinite:
            self.first_nonfinite[phase] = (
                torch.full((), -1, dtype=torch.long, device=loss.device),
                torch.zeros((), device=loss.device),
            )
        first, value = self.first_nonfinite[phase]
        new = bad & (first < 0)
        value = torch.where(new, loss, value)
        first = torch.where(new, torch.full_like(first, step), first)
        self.first_nonfinite[phase] = (first, value)

    def check(
        self, step: int, phases: Iterable[str], scalers: dict[str, torch.amp.GradScaler]
    ) -> None:
        """Raise at the first step any process saw a non-finite loss (every process raises the
        same line at the same step: the flags are reduced here, at log and checkpoint time),
        or when an fp16 loss scale fell below ``FP16_MIN_SCALE``."""
        names = list(self.first_nonfinite)
        if self.strategy.world_size > 1:  # every process asks about the same phases
            names = list(dict.fromkeys(phases))
        firsts, values = [], []
        for phase in names:
            first, value = self.first_nonfinite.get(phase, (None, None))
            firsts.append(-1 if first is None else int(first))
            values.append(value.item() if firsts[-1] >= 0 else 0.0)
        firsts, values = self.strategy.earliest(firsts, values)
        for phase, first, value in zip(names, firsts, values, strict=True):
            if first >= 0:
                raise DivergenceError(
                    f"training diverged at step {first}: the {phase} loss is {value}. "
                    "The last good checkpoint is kept; try a lower learning rate."
                )
        for name, scaler in scalers.items():
            if scaler.is_enabled() and scaler.get_scale() < FP16_MIN_SCALE:
                raise DivergenceError(
                    f"training diverged by step {step}: under fp16 the {name} losses stay "
                    "non-finite (loss scale below 1e-3). Try train.amp=bf16 or a lower learning rate."
                )

    def check_parameters(self, parameters: Iterable[torch.Tensor], step: int, latest: Path) -> None:
        """Refuse to save non-finite parameters (the last good checkpoint ``latest`` stays)."""
        for p in parameters:
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"parameters became non-finite by step {step}; not saving. The last good "
                    f"checkpoint {latest} is intact: lower the learning rate and resume."
                )
