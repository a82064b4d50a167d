"""The Trainer: the training loop and its step, for any recipe.

It knows no recipe: everything GAN-specific is in the recipe's ``phases()``, and what a recipe
offers beyond that is read from its ``capabilities()``. The loop's other jobs are parts beside
it in ``ganarium.training``: the settings (``config``), the optimizers' kernels, schedules and
gradient gating (``optimizers``), autocast and loss scaling (``precision``), the divergence
guard (``guard``), the EMA schedule (``ema``), the log, TensorBoard and progress bar
(``logs``), sample grids (``previews``), periodic evaluation (``evaluation``), checkpoints,
resume and the run lock (``checkpoints``), and the device and process policy (``strategy``),
which the Trainer asks to place the nets, shard the data, reduce gradients and logged values
and gate writing. ``fit()`` takes callbacks (``callbacks.Callback``: after steps, log steps,
evaluations and checkpoints; ``request_stop`` ends a run cleanly), the seam through which a
study trial reports to a scheduler without the Trainer knowing it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from ganarium.amp import loss_scale
from ganarium.data.stream import IMAGES
from ganarium.recipe import Batch, Phase, Preview, Recipe, StepContext
from ganarium.rundir import RunDir, RunLock
from ganarium.training import checkpoints
from ganarium.training.callbacks import Callback
from ganarium.training.checkpoints import load_recipe_weights
from ganarium.training.config import TrainConfig, check_batch_split, length_in_steps
from ganarium.training.ema import ema_decay_at, keeps_ema, with_ema_default
from ganarium.training.evaluation import Evaluator, evaluate
from ganarium.training.guard import DivergenceGuard
from ganarium.training.logs import RunLog
from ganarium.training.optimizers import (
    LearningRateSchedule,
    TrainableSwitch,
    player_parameters,
    set_optimizer_impl,
)
from ganarium.training.precision import InputGradientWatch, Precision, takes_input_gradients
from ganarium.training.previews import Previews
from ganarium.training.strategy import SingleDevice, resolve_device, strategy_for

__all__ = [  # what callers import from here; each part's own module has the rest
    "Callback",
    "Evaluator",
    "TrainConfig",
    "Trainer",
    "check_batch_split",
    "load_recipe_weights",
    "player_parameters",
    "resolve_device",
    "set_optimizer_impl",
]


class Trainer:
    """Trains ``recipe`` on ``dataset`` as configured by ``cfg``, writing to ``run`` (optional).

    ``preview_dataset`` is where the sample grids' fixed examples come from for recipes whose
    preview needs inputs (translators); the training data by default. ``strategy`` says where
    it trains (``ganarium.training.strategy``): by default one device, or data-parallel under
    torchrun, where every process runs this Trainer and rank 0 alone writes the run.
    """

    def __init__(
        self,
        recipe: Recipe,
        dataset: Dataset,
        cfg: TrainConfig,
        run: RunDir | None = None,
        evaluators: list[Evaluator] | None = None,
        config_record: dict[str, Any] | None = None,
        callbacks: Iterable[Callback] | None = None,
        preview_dataset: Dataset | None = None,
        strategy: SingleDevice | None = None,
    ) -> None:
        cfg.validate()
        cfg = with_ema_default(cfg, recipe.info.kind)
        self.cfg, self.run, self.evaluators = cfg, run, list(evaluators or [])
        self.callbacks = list(callbacks or [])
        self.config_record = config_record or {}
        self.strategy = strategy or strategy_for(cfg.device)
        check_batch_split(cfg.batch_size, self.strategy.world_size, cfg.accumulate)
        self.device = self.strategy.device
        torch.manual_seed(cfg.seed)
        self.recipe = self.strategy.place(recipe, cfg.sync_bn)
        if cfg.channels_last:
            self.recipe.to(memory_format=torch.channels_last)
        if cfg.cudnn_benchmark:
            self.strategy.benchmark_convolutions()
        if keeps_ema(cfg):
            self.recipe.enable_ema()
        self.optimizers = self.recipe.configure_optimizers()
        set_optimizer_impl(self.optimizers.values(), cfg.optimizer_impl)
        if cfg.compile:
            for net in self.recipe.nets().values():
                net.compile(backend=cfg.compile_backend)
        self.phases = self.recipe.phases()
        self._check_phases(self.phases)
        self.cfg = cfg = length_in_steps(
            cfg,
            self.real_batches_per_step() * cfg.batch_size,
            dataset,
            self.recipe.name,
            self.recipe.batch_size_at if self._recipe_sets_batch() else None,
        )
        self.lr_schedule = LearningRateSchedule(cfg)
        self.schedulers = self.lr_schedule.schedulers(self.optimizers)
        self.precision = Precision(cfg, self.device, self.optimizers, self.strategy.is_writer)
        self.scalers = self.precision.scalers
        self.trainable = TrainableSwitch(self.optimizers)
        self.stream = self.strategy.batch_stream(dataset, cfg.batch_size, cfg.seed, cfg.num_workers)
        self.guard = DivergenceGuard(cfg, self.strategy)
        self.logs = RunLog()
        self.previews = Previews(preview_dataset if preview_dataset is not None else dataset)
        self.step = 0
        self.images_seen = 0  # real images shown so far (fresh batches of phases with real=True)
        self.restarted = False  # resumed from a run that had no checkpoint yet: from step 0
        # the run's writer lock, held from start/resume to fit's end
        self.lock: RunLock | None = None
        self.stop_reason: str | None = None

    def _check_phases(self, phases: list[Phase]) -> None:
        seen: dict[str, Phase] = {}
        for ph in phases:
            if ph.optimizer not in self.optimizers:
                raise ValueError(f"phase {ph.name!r} names unknown optimizer {ph.optimizer!r}")
            if ph.batch is not None and ph.batch not in seen:
                raise ValueError(
                    f"phase {ph.name!r} reuses the batch of {ph.batch!r}, which is no earlier phase"
                )
            if ph.batch is not None and ph.images and not seen[ph.batch].images:
                raise ValueError(
                    f"phase {ph.name!r} reads images but reuses the batch of {ph.batch!r}, which "
                    f"draws none: declare images=True on {ph.batch!r}"
                )
            if ph.every < 1 or ph.repeat < 1:
                raise ValueError(f"phase {ph.name!r}: every and repeat must be >= 1")
            seen[ph.name] = ph

    def real_batches_per_step(self) -> float:
        """Fresh batches of real images shown per step, on average over ``every``."""
        return sum(ph.repeat / ph.every for ph in self.phases if ph.real and ph.batch is None)

    def ema_decay_at(self, step: int, images_seen: int = 0) -> float:
        """The EMA decay after ``step`` (``ganarium.training.ema.ema_decay_at``)."""
        return ema_decay_at(self.cfg, step, images_seen)

    @property
    def writes(self) -> bool:
        """Whether this process writes the run: it has one and is rank 0 (or alone)."""
        return self.run is not None and self.strategy.is_writer

    @property
    def history(self) -> list[dict[str, Any]]:
        """Every record logged so far (on every process)."""
        return self.logs.history

    # -- the parts, as callers know them --------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return checkpoints.trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        checkpoints.load_trainer_state(self, state)

    def save(self) -> Path | None:
        """Write the step's checkpoint and ``latest.pt`` atomically; returns the step's file."""
        return checkpoints.save(self)

    def resume(self) -> None:
        checkpoints.resume(self)

    def hold_lock(self) -> None:
        checkpoints.hold_lock(self)

    def release_lock(self) -> None:
        checkpoints.release_lock(self)

    def log(self, record: dict[str, Any]) -> None:
        self.logs.write(self, record)

    def nonessential_write(self, what: str, write: Callable[[], Any]) -> None:
        self.logs.nonessential_write(what, write)

    def preview(self) -> Preview | None:
        return self.previews.preview(self)

    def save_samples(self) -> None:
        self.previews.save(self)

    def evaluate(self) -> dict[str, float]:
        return evaluate(self)

    def check_divergence(self) -> None:
        """Raise if training diverged (``guard.DivergenceGuard.check``)."""
        self.guard.check(self.step, [ph.name for ph in self.phases], self.scalers)

    def request_stop(self, reason: str = "requested") -> None:
        """End ``fit`` after the current step, writing a checkpoint at that step."""
        self.stop_reason = reason

    # -- the step -------------------------------------------------------------------------------
    def _loss_and_backward(
        self, phase: Phase, batch: Batch, ctx: StepContext, first: bool
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run ``phase``'s loss on one micro-batch and back-propagate it (scaled by 1/K).

        A phase's first run under compile or fp16 is watched for input gradients
        (``precision``). A compiled phase that fails to differentiate twice later (a penalty its
        first run skipped) is rerun eager from the same random state."""
        k, amp = self.cfg.accumulate, self.precision
        probe = amp.probes(phase)
        rng = self.strategy.rng_state() if amp.may_fail_compiled(phase, probe) else None
        watch = InputGradientWatch() if probe else contextlib.nullcontext()
        try:
            with amp.phase_mode(phase, probe):
                with amp.autocast(), loss_scale(amp.loss_scale(phase)), watch:
                    loss, parts = phase.loss(batch, ctx)
            self.guard.watch(phase.name, loss, self.step)
            opt = self.optimizers[phase.optimizer]
            amp.backward(phase.optimizer, opt, loss / k if k > 1 else loss, first)
        except RuntimeError as e:
            if rng is None or not takes_input_gradients(e):
                raise
            amp.run_eager(phase, "took input gradients after its first step")
            self.strategy.set_rng_state(rng)
            return self._loss_and_backward(phase, batch, ctx, first)
        if probe:
            amp.watched(phase, watch)
        return loss, parts

    def _optimizer_step(self, name: str, verdict: bool = True) -> bool:
        """Average the gradients over processes and step optimizer ``name``; False when the
        fp16 scaler skipped the step (read only for a ``verdict``: ``Precision.step``)."""
        self.strategy.reduce_gradients(self.trainable.params[name])
        return self.precision.step(name, self.optimizers[name], verdict)

    def _draw(self, images: bool = True) -> list[Batch]:
        """This process's part of the next global batch, as ``train.accumulate`` micro-batches
        (``images=False``: image entries are stand-ins, see ``Phase.images``)."""
        batch = self.stream.draw(images)
        if self.cfg.channels_last:
            batch = {
                key: v.contiguous(memory_format=torch.channels_last)
                if v.dim() == 4 and (images or key != IMAGES)
                else v
                for key, v in batch.items()
            }
        k = self.cfg.accumulate
        if k == 1:
            return [batch]
        chunks = {key: v.chunk(k) for key, v in batch.items()}
        return [{key: c[m] for key, c in chunks.items()} for m in range(k)]

    def _recipe_sets_batch(self) -> bool:
        """Whether the recipe may set a batch per step (``Recipe.batch_size_at`` overridden)."""
        return type(self.recipe).batch_size_at is not Recipe.batch_size_at

    def _resize_batch(self, size: int | None) -> None:
        """Draw the global batch the recipe sets for this step (None: ``train.batch_size``)."""
        size = size or self.cfg.batch_size
        if size != self.stream.batch_size:
            check_batch_split(size, self.strategy.world_size, self.cfg.accumulate)
            self.stream.resize(size)

    def _micro_seed(self, phase: int, repeat: int, micro: int) -> int:
        """The seed of one micro-batch's noise when a step has several (processes x
        accumulate): set by (seed, step, phase, repeat, global micro-batch index), so the run
        depends on the number of micro-batches, not on how they are split over processes,
        and resumes exactly with any split."""
        m = self.strategy.rank * self.cfg.accumulate + micro
        key = (((self.cfg.seed * 1_000_003 + self.step) * 257 + phase) * 1031 + repeat) * 65_537
        return (key + m) % 2**63

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator iteration: every due phase, each ``repeat`` times. Returns the detached
        logs of the phases that ran.

        With several micro-batches (``train.accumulate``) each phase runs its loss on each,
        scaled by 1/K, and steps once; micro-batch m of a phase that reuses a batch sees
        micro-batch m of that batch, and ``ctx.batches`` and ``ctx.shared`` are micro-batch
        m's."""
        logs: dict[str, torch.Tensor] = {}
        ctx = StepContext(
            self.step, self.cfg.steps, self.images_seen, mean_over_processes=self.strategy.mean
        )
        self._resize_batch(self.recipe.batch_size_at(self.step, self.images_seen))
        k = self.cfg.accumulate
        reseed = k * self.strategy.world_size > 1
        drawn: dict[str, list[Batch]] = {}
        shared = [ctx.shared] + [{} for _ in range(k - 1)]
        for i, ph in enumerate(self.phases):
            if self.step % ph.every:
                continue
            self.trainable.only(ph.optimizer)
            for r in range(ph.repeat):
                ctx.repeat = r
                if ph.batch is not None:
                    batches = drawn[ph.batch]
                else:
                    batches = self._draw(ph.images)
                    if ph.real:
                        self.images_seen += self.stream.batch_size
                drawn[ph.name] = batches
                step_loss: torch.Tensor | None = None
                step_parts: dict[str, torch.Tensor] = {}
                for m, batch in enumerate(batches):
                    if reseed:
                        torch.manual_seed(self._micro_seed(i, r, m))
                    ctx.batches[ph.name] = batch
                    if k > 1:
                        ctx.batches.update({name: bs[m] for name, bs in drawn.items()})
                        ctx.shared = shared[m]
                    loss, parts = self._loss_and_backward(ph, batch, ctx, m == 0)
                    mean = (lambda v: v.detach() / k) if k > 1 else (lambda v: v.detach())  # noqa: E731
                    step_loss = mean(loss) if step_loss is None else step_loss + mean(loss)
                    for key, v in parts.items():
                        step_parts[key] = (
                            step_parts[key] + mean(v) if key in step_parts else mean(v)
                        )
                if self._optimizer_step(ph.optimizer, ph.after is not None) and ph.after:
                    ph.after(ctx)
            logs[f"loss/{ph.name}"] = step_loss
            for key, v in step_parts.items():
                logs[f"{ph.name}/{key}"] = v
        if self.recipe.ema:
            self.recipe.update_ema(
                ema_decay_at(self.cfg, self.step, self.images_seen, self.stream.batch_size)
            )
        for sch in self.schedulers.values():
            sch.step()
        return logs

    # -- the loop -------------------------------------------------------------------------------
    def _agreed_stop(self) -> bool:
        """Whether to stop now: ``request_stop`` (a signal, a callback) on any process stops
        every process after the same step."""
        stop = self.stop_reason is not None
        if self.strategy.any(stop) and not stop:
            self.stop_reason = "stopped on another process"
            stop = True
        return stop

    def _due(self, every: int) -> bool:
        return every > 0 and (self.step % every == 0 or self.step == self.cfg.steps)

    def fit(self, callbacks: Iterable[Callback] = ()) -> list[dict[str, Any]]:
        """Train to ``train.steps`` (or until ``request_stop``); returns the logged records."""
        cfg = self.cfg
        self.callbacks += [cb for cb in callbacks if cb not in self.callbacks]
        if self.writes:
            self.run.create()
            self.hold_lock()
            checkpoints.write_recipe_summary(self)
            if self.step == 0:
                self.save_samples()
        self.logs.open(self)
        saved_at = -1
        try:
            stop = self._agreed_stop()
            while self.step < cfg.steps and not stop:
                logs = self.train_step()
                self.step += 1
                self.logs.add(logs)
                for cb in self.callbacks:
                    cb.on_step(self)
                if self._due(cfg.log_every):
                    self.check_divergence()
                    record = self.logs.averages(self.step, self.recipe.logged_state, self.strategy)
                    if self._due(cfg.eval_every):
                        record.update(self.evaluate())
                    self.log(record)
                    for cb in self.callbacks:
                        cb.on_log(self, record)
                    self.logs.shown(record, self.recipe.capabilities().signals)
                elif self._due(cfg.eval_every):
                    self.log({"step": self.step, **self.evaluate()})
                if self._due(cfg.sample_every):
                    self.save_samples()
                if self._due(cfg.checkpoint_every):
                    self.save()
                    saved_at = self.step
                stop = self._agreed_stop()
            self.check_divergence()
            if self._agreed_stop() and saved_at != self.step:
                self.save()
            self.strategy.sync_state(self.recipe)
        finally:
            self.trainable.release()
            self.release_lock()
            self.logs.close()
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history
