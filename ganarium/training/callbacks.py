"""The Trainer's callback seam: hooks ``Trainer.fit`` calls after steps, log steps,
evaluations and checkpoints, and at the end. A study trial reports to its scheduler through
it, and ``trainer.request_stop(reason)`` ends a run cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganarium.training.trainer import Trainer


class Callback:
    """Hooks ``Trainer.fit`` calls; override the ones needed. Each gets the Trainer, whose
    ``request_stop(reason)`` ends the run after the current step with a checkpoint."""

    def on_step(self, trainer: Trainer) -> None:
        """After every training step (``trainer.step`` is the number of steps done)."""

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """After a log step, with the logged record."""

    def on_evaluate(self, trainer: Trainer, results: dict[str, float]) -> None:
        """After a periodic evaluation (``train.eval_every``)."""

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        """After a checkpoint was written (``path``: the step's checkpoint file)."""

    def on_end(self, trainer: Trainer) -> None:
        """When ``fit`` returns, finished or stopped (not when it raises)."""
