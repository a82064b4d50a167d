"""The run's log: values averaged over the steps on which each key was logged (a phase with
``every=4`` logs its own mean, not a quarter of it), each record kept in ``history``, appended
to metrics.jsonl and TensorBoard by the writing process, and shown on the progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from ganarium.training.strategy import SingleDevice
    from ganarium.training.trainer import Trainer


def bar_fields(record: dict[str, Any], signals: Iterable[str]) -> dict[str, str]:
    """The progress bar's fields: each phase's loss, then the recipe's declared signals
    (ProGAN's resolution and fade-in, BEGAN's M_global)."""
    fields = {k.split("/")[-1]: f"{v:.3g}" for k, v in record.items() if k.startswith("loss/")}
    for k in signals:
        if isinstance(record.get(k), (int, float)):
            fields[k] = f"{record[k]:.3g}"
    return fields


class RunLog:
    """What one Trainer logs, and where it goes."""

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []
        self._tensorboard = None
        self._warned: set[str] = set()
        self._bar: tqdm | None = None
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}
        self._steps, self._t0 = 0, 0.0

    def open(self, trainer: Trainer) -> None:
        """Show the progress bar (the writing process, ``train.progress``) at the start of
        ``fit``, and start averaging."""
        self._bar = tqdm(
            total=trainer.cfg.steps,
            initial=trainer.step,
            disable=not trainer.cfg.progress or not trainer.strategy.is_writer,
            desc=trainer.recipe.name,
            dynamic_ncols=True,
            leave=False,
        )
        self._restart()

    def _restart(self) -> None:
        self._sums, self._counts, self._steps, self._t0 = {}, {}, 0, time.perf_counter()

    def add(self, logs: dict[str, torch.Tensor]) -> None:
        """One step's detached logs, summed on the device (no host sync)."""
        for k, v in logs.items():  # averaged over the steps where the key was logged
            self._sums[k] = self._sums[k] + v if k in self._sums else v.clone()
            self._counts[k] = self._counts.get(k, 0) + 1
        self._steps += 1
        self._bar.update(1)

    def averages(
        self, step: int, state: Callable[[], dict[str, Any]], strategy: SingleDevice
    ) -> dict[str, Any]:
        """The record of a log step: each key's mean since the last one, then the recipe's
        logged ``state()``, averaged over processes, and the seconds per step."""
        record: dict[str, Any] = {"step": step}
        record.update({k: float(v) / self._counts[k] for k, v in self._sums.items()})
        record.update(state())
        strategy.average_logged(record)
        record["sec_per_step"] = (time.perf_counter() - self._t0) / self._steps
        return record

    def shown(self, record: dict[str, Any], signals: Iterable[str]) -> None:
        """Put ``record`` on the progress bar and start the next averages."""
        self._bar.set_postfix(bar_fields(record, signals))
        self._restart()

    def write(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """Keep ``record`` in ``history``; the writing process appends it to metrics.jsonl and
        TensorBoard."""
        self.history.append(record)
        if not trainer.writes:
            return
        self.nonessential_write("metrics line", lambda: trainer.run.append_metrics(record))
        tensorboard = self.tensorboard(trainer)
        if tensorboard is not None:
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float)):
                    tensorboard.add_scalar(k, v, record["step"])

    def tensorboard(self, trainer: Trainer):
        """The run's TensorBoard writer (``train.tensorboard``), opened on first use; a resumed
        run's later events replace those after its step."""
        if self._tensorboard is None and trainer.run is not None and trainer.cfg.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tensorboard = SummaryWriter(str(trainer.run.tb), purge_step=trainer.step + 1)
        return self._tensorboard

    def nonessential_write(self, what: str, write: Callable[[], Any]) -> None:
        """A write training can do without (sample grids, metric lines): on failure, warn once
        per kind and go on."""
        try:
            write()
        except OSError as e:
            if what not in self._warned:
                self._warned.add(what)
                print(
                    f"ganarium: warning: could not write a {what} ({e.strerror or e}); training "
                    "goes on without it",
                    file=sys.stderr,
                )

    def close(self) -> None:
        """Close the progress bar and flush TensorBoard (the end of ``fit``)."""
        if self._bar is not None:
            self._bar.close()
        if self._tensorboard is not None:
            self._tensorboard.flush()
