"""The Trainer: runs any recipe's phases, schedules, EMA, mixed precision, logging, sample
grids, periodic evaluation, atomic checkpoints, exact resume and a divergence guard.

It knows no recipe: everything GAN-specific is in the recipe's ``phases()``, and what a recipe
offers beyond that is read from its ``capabilities()``. ``fit()`` takes callbacks (after log
steps, evaluations and checkpoints; ``request_stop`` ends a run cleanly), the seam through
which a study trial reports to a scheduler without the Trainer knowing it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import Dataset
from torchvision.utils import make_grid, save_image
from tqdm.auto import tqdm

from ganarium.amp import loss_scale
from ganarium.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from ganarium.data.stream import BatchStream, fixed_examples
from ganarium.errors import CheckpointError, ConfigError, DivergenceError
from ganarium.recipe import Batch, Phase, Preview, Recipe, StepContext
from ganarium.rundir import RunDir, RunLock

Evaluator = Callable[[Recipe], dict[str, float]]
FP16_MIN_SCALE = 1e-3  # a loss scale driven this low means every step is non-finite


def other_busy_processes() -> float | None:
    """How many other processes keep the CPU busy: the smaller of the last minute's load
    average and the processes runnable right now (Linux), so neither a job that just ended nor
    a momentary one counts; None where the system does not say."""
    try:
        load = os.getloadavg()[0]
        runnable = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1
    except (OSError, AttributeError, ValueError, IndexError):
        return None
    return min(load, float(runnable))


@dataclass
class TrainConfig:
    """Settings of the training loop (``train.*`` in the config).

    ``steps`` counts generator iterations (one pass over the recipe's phases). ``ema_decay``
    0 turns the generator's EMA off. Intervals of 0 turn that periodic work off. A recipe's
    ``train_defaults`` (e.g. CycleGAN's linear decay from half-way) replace these defaults.
    """

    steps: int = 5000
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    amp: Literal["none", "bf16", "fp16"] = "none"
    ema_decay: float | None = None
    ema_start: int = 0
    lr_schedule: Literal["constant", "linear"] = "constant"
    lr_decay_start: float = 0.0
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int = 0
    n_grid: int = 64
    num_workers: int = 0
    threads: int = 0  # torch's CPU threads; 0: torch's default (one per core)
    progress: bool = True
    tensorboard: bool = True

    def validate(self) -> None:
        """Refuse, in one line, any setting outside its range."""
        at_least = {
            "steps": 0,
            "batch_size": 1,
            "ema_start": 0,
            "log_every": 0,
            "sample_every": 0,
            "checkpoint_every": 0,
            "eval_every": 0,
            "keep_checkpoints": 1,
            "n_grid": 1,
            "num_workers": 0,
            "threads": 0,
        }
        for key, low in at_least.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                what = (
                    "0 turns it off" if low == 0 and key.endswith("_every") else f"at least {low}"
                )
                raise ConfigError(f"train.{key}={value!r} must be a whole number ({what})")
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay={self.ema_decay} must be in [0, 1)")
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", str(self.device)):
            raise ConfigError(f"train.device={self.device!r}: use auto, cpu, cuda or cuda:N")
        if not 0.0 <= self.lr_decay_start < 1.0:
            raise ConfigError(
                f"train.lr_decay_start={self.lr_decay_start} must be in [0, 1) (a fraction of "
                "train.steps)"
            )
        if self.lr_schedule not in ("constant", "linear"):
            raise ConfigError(f"train.lr_schedule={self.lr_schedule!r}: use constant or linear")
        if self.amp not in ("none", "bf16", "fp16"):
            raise ConfigError(f"train.amp={self.amp!r}: use none, bf16 or fp16")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name} but no CUDA GPU is available: use train.device=cpu")
    return torch.device(name)


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


class Trainer:
    """Trains ``recipe`` on ``dataset`` as configured by ``cfg``, writing to ``run`` (optional).

    ``preview_dataset`` is where the sample grids' fixed examples come from for recipes whose
    preview needs inputs (translators); the training data by default.
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
    ) -> None:
        cfg.validate()
        if cfg.ema_decay is None:
            cfg = dataclasses.replace(cfg, ema_decay=0.999 if recipe.info.kind == "image" else 0.0)
        self.cfg, self.run, self.evaluators = cfg, run, list(evaluators or [])
        self.callbacks = list(callbacks or [])
        self.config_record = config_record or {}
        self.device = resolve_device(cfg.device)
        self._set_cpu_threads()
        torch.manual_seed(cfg.seed)
        self.recipe = recipe.to(self.device)
        if cfg.ema_decay > 0:
            self.recipe.enable_ema()
        self.optimizers = self.recipe.configure_optimizers()
        self.phases = self.recipe.phases()
        self._check_phases(self.phases)
        # 'linear' decays every learning rate to 0 at train.steps, letting the players settle
        self.schedulers = {
            k: torch.optim.lr_scheduler.LambdaLR(o, self._lr_factor)
            for k, o in self.optimizers.items()
        }
        # each optimizer its own loss scaler, updated after each of its steps (fp16 only)
        self.scalers = {
            k: torch.amp.GradScaler(self.device.type, enabled=cfg.amp == "fp16")
            for k in self.optimizers
        }
        self._params = {
            k: [p for g in o.param_groups for p in g["params"]] for k, o in self.optimizers.items()
        }
        self._trainable: str | None = None
        self.stream = BatchStream(dataset, cfg.batch_size, cfg.seed, self.device, cfg.num_workers)
        self._preview_source = preview_dataset if preview_dataset is not None else dataset
        self._preview_examples: Batch | None = None
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.step = 0
        self.lock: RunLock | None = (
            None  # the run's writer lock, held from start/resume to fit's end
        )
        self.stop_reason: str | None = None
        self._writer = None
        self._nonfinite: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._write_warnings: set[str] = set()
        self.history: list[dict[str, Any]] = []

    def _set_cpu_threads(self) -> None:
        """Apply ``train.threads``; left at torch's default (a thread per core) on a CPU that
        other processes already keep busy, warn: the threads would contend with them and
        training runs many times slower (measured: 1-3 steps/s instead of 64 on 2 cores)."""
        if self.cfg.threads:
            torch.set_num_threads(self.cfg.threads)
            return
        threads, cores = torch.get_num_threads(), os.cpu_count() or 1
        if self.device.type != "cpu" or threads < 2:
            return
        busy = other_busy_processes()
        if busy is not None and busy + threads > cores + 0.5:
            print(
                f"ganarium: warning: the CPU is busy (load {busy:.1f} on {cores} cores) and torch "
                f"uses {threads} threads, which will contend with it and slow training; set "
                f"train.threads={max(1, int(cores - busy))} or free the cores",
                file=sys.stderr,
            )

    def _check_phases(self, phases: list[Phase]) -> None:
        seen: list[str] = []
        for ph in phases:
            if ph.optimizer not in self.optimizers:
                raise ValueError(f"phase {ph.name!r} names unknown optimizer {ph.optimizer!r}")
            if ph.batch is not None and ph.batch not in seen:
                raise ValueError(
                    f"phase {ph.name!r} reuses the batch of {ph.batch!r}, which is no earlier phase"
                )
            if ph.every < 1 or ph.repeat < 1:
                raise ValueError(f"phase {ph.name!r}: every and repeat must be >= 1")
            seen.append(ph.name)

    def _lr_factor(self, step: int) -> float:
        """'linear': constant until ``lr_decay_start`` of train.steps, then linearly to 0 at the
        end (CycleGAN's schedule with 0.5; from the start with 0)."""
        if self.cfg.lr_schedule == "linear" and self.cfg.steps > 0:
            t, start = step / self.cfg.steps, self.cfg.lr_decay_start
            return max(0.0, min(1.0, (1.0 - t) / (1.0 - start)))
        return 1.0

    @property
    def images_seen(self) -> int:
        """Real samples drawn from the data so far."""
        return self.stream.drawn * self.cfg.batch_size

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.name,
            "info": self.recipe.info.to_dict(),
            "step": self.step,
            "model": self.recipe.state_dict(),
            "extra": self.recipe.extra_state(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: sch.state_dict() for k, sch in self.schedulers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "stream": self.stream.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "config": self.config_record,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("recipe") != self.recipe.name:
            raise CheckpointError(
                f"this checkpoint is from recipe {state.get('recipe')!r}, not {self.recipe.name!r}"
            )
        load_recipe_weights(self.recipe, state)
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        for k, sch in self.schedulers.items():
            sch.load_state_dict(state["schedulers"][k])
        for k, scaler in self.scalers.items():
            scaler.load_state_dict(state.get("scalers", {}).get(k, {}))
        self.stream.load_state_dict(state["stream"])
        torch.set_rng_state(state["rng_cpu"])
        if state["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.step = int(state["step"])

    def save(self) -> Path | None:
        """Write the step's checkpoint and ``latest.pt`` atomically; returns the step's file."""
        if self.run is None:
            return None
        self._raise_if_diverged()
        for p in self.recipe.parameters():
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"parameters became non-finite by step {self.step}; not saving. The last good "
                    f"checkpoint {self.run.latest} is intact: lower the learning rate and resume."
                )
        state = self.state_dict()
        path = self.run.step_checkpoint(self.step)
        try:
            save_checkpoint(path, state)
            save_checkpoint(self.run.latest, state)
        except OSError as e:  # disk full, unwritable: the temp file is gone, latest is intact
            raise CheckpointError(
                f"could not write the step {self.step} checkpoint ({e.strerror or e}); the last "
                f"good checkpoint {self.run.latest} is intact: free disk space and resume with "
                f"`ganarium train --resume {self.run.path}`"
            ) from None
        for old in self.run.step_checkpoints()[: -self.cfg.keep_checkpoints or None]:
            old.unlink(missing_ok=True)
        for cb in self.callbacks:
            cb.on_checkpoint(self, path)
        return path

    def resume(self) -> None:
        if self.run is None or not self.run.has_checkpoint():
            raise CheckpointError("nothing to resume: the run has no checkpoints/latest.pt")
        self.hold_lock()  # before anything in the run is rewritten
        self.load_state_dict(load_checkpoint(self.run.latest, self.device))
        self.run.truncate_metrics(self.step)

    # -- logging ---------------------------------------------------------------------------
    @property
    def writer(self):
        if self._writer is None and self.run is not None and self.cfg.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run.tb), purge_step=self.step + 1)
        return self._writer

    def nonessential_write(self, what: str, write: Callable[[], Any]) -> None:
        """A write training can do without (sample grids, metric lines): on failure, warn once
        per kind and go on."""
        try:
            write()
        except OSError as e:
            if what not in self._write_warnings:
                self._write_warnings.add(what)
                print(
                    f"ganarium: warning: could not write a {what} ({e.strerror or e}); training "
                    "goes on without it",
                    file=sys.stderr,
                )

    def log(self, record: dict[str, Any]) -> None:
        self.history.append(record)
        if self.run is None:
            return
        self.nonessential_write("metrics line", lambda: self.run.append_metrics(record))
        if self.writer is not None:
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float)):
                    self.writer.add_scalar(k, v, record["step"])

    def _fork_rng(self):
        """Sampling and evaluation draw their own noise inside this, so the training RNG stream
        (and so a resumed run) never depends on whether and when they happened."""
        return torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else [])

    def preview_examples(self) -> Batch:
        """A fixed batch of ``n_grid`` examples for the recipe's preview (drawn once, seeded)."""
        if self._preview_examples is None:
            with self._fork_rng():
                batch = fixed_examples(self._preview_source, self.cfg.n_grid, self.cfg.seed)
            self._preview_examples = {k: v.to(self.device) for k, v in batch.items()}
        return self._preview_examples

    def preview(self) -> Preview | None:
        """The recipe's preview at this step, drawn with the same noise every time and outside
        the training RNG stream."""
        with self._fork_rng():
            torch.manual_seed(self.cfg.seed + 12345)
            return self.recipe.preview(self.cfg.n_grid, self.preview_examples())

    def save_samples(self) -> None:
        if self.run is None:
            return
        preview = self.preview()
        if preview is None:
            return
        grid = make_grid(
            preview.images.float().cpu(), nrow=preview.nrow, normalize=True, value_range=(-1, 1)
        )
        self.nonessential_write(
            "sample grid",
            lambda: (
                self.run.samples.mkdir(parents=True, exist_ok=True),
                save_image(grid, self.run.sample_grid(self.step)),
            ),
        )
        if self.writer is not None:
            self.writer.add_image("samples", grid, self.step)

    def evaluate(self) -> dict[str, float]:
        out: dict[str, float] = {}
        with self._fork_rng():
            for ev in self.evaluators:
                out.update(ev(self.recipe))
        for cb in self.callbacks:
            cb.on_evaluate(self, out)
        return out

    def hold_lock(self) -> None:
        """Take the run's writer lock (one writer per run) unless already held."""
        if self.run is not None and self.lock is None:
            self.lock = self.run.acquire_lock()

    def release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def request_stop(self, reason: str = "requested") -> None:
        """End ``fit`` after the current step, writing a checkpoint at that step."""
        self.stop_reason = reason

    # -- the loop --------------------------------------------------------------------------
    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _train_only(self, optimizer: str) -> None:
        """Parameters of the other optimizers stop requiring gradients during this phase, so a G
        step does not back-propagate into D's weights (their gradients would be discarded)."""
        if self._trainable == optimizer:
            return
        for k, params in self._params.items():
            if k != optimizer:
                for p in params:
                    p.requires_grad_(False)
        for p in self._params[optimizer]:
            p.requires_grad_(True)
        self._trainable = optimizer

    def _release_params(self) -> None:
        for params in self._params.values():
            for p in params:
                p.requires_grad_(True)
        self._trainable = None

    def _watch_finite(self, phase: str, loss: torch.Tensor) -> None:
        """Remember, on the device and without a host sync, the first step whose ``phase`` loss
        was non-finite; read at log and checkpoint time by ``_raise_if_diverged``. Under fp16 a
        non-finite loss is the loss scaler's business (the step is skipped, the scale lowered)."""
        if self.cfg.amp == "fp16":
            return
        loss = loss.detach().float()
        bad = ~torch.isfinite(loss)
        if phase not in self._nonfinite:
            self._nonfinite[phase] = (
                torch.full((), -1, dtype=torch.long, device=loss.device),
                torch.zeros((), device=loss.device),
            )
        first, value = self._nonfinite[phase]
        new = bad & (first < 0)
        value = torch.where(new, loss, value)
        first = torch.where(new, torch.full_like(first, self.step), first)
        self._nonfinite[phase] = (first, value)

    def _raise_if_diverged(self) -> None:
        for phase, (first, value) in self._nonfinite.items():
            if int(first) >= 0:
                raise DivergenceError(
                    f"training diverged at step {int(first)}: the {phase} loss is {value.item()}. "
                    "The last good checkpoint is kept; try a lower learning rate."
                )
        for name, scaler in self.scalers.items():
            if scaler.is_enabled() and scaler.get_scale() < FP16_MIN_SCALE:
                raise DivergenceError(
                    f"training diverged by step {self.step}: under fp16 the {name} losses stay "
                    "non-finite (loss scale below 1e-3). Try train.amp=bf16 or a lower learning rate."
                )

    def _optimizer_step(self, name: str, loss: torch.Tensor) -> bool:
        """Backward and step optimizer ``name``; False when the fp16 scaler skipped the step."""
        opt, scaler = self.optimizers[name], self.scalers[name]
        opt.zero_grad(set_to_none=True)
        if not scaler.is_enabled():
            loss.backward()
            opt.step()
            return True
        scaler.scale(loss).backward()
        before = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        return scaler.get_scale() >= before  # the scale drops exactly when the step was skipped

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator iteration: every due phase, each ``repeat`` times. Returns the detached
        logs of the phases that ran."""
        logs: dict[str, torch.Tensor] = {}
        ctx = StepContext(self.step, self.cfg.steps, self.images_seen)
        for ph in self.phases:
            if self.step % ph.every:
                continue
            self._train_only(ph.optimizer)
            scaler = self.scalers[ph.optimizer]
            for r in range(ph.repeat):
                ctx.repeat = r
                batch = ctx.batches[ph.batch] if ph.batch is not None else next(self.stream)
                ctx.batches[ph.name] = batch
                scale = scaler.get_scale() if scaler.is_enabled() else 1.0
                with self._autocast(), loss_scale(scale):
                    loss, parts = ph.loss(batch, ctx)
                self._watch_finite(ph.name, loss)
                if self._optimizer_step(ph.optimizer, loss) and ph.after is not None:
                    ph.after(ctx)
            logs[f"loss/{ph.name}"] = loss.detach()
            for k, v in parts.items():
                logs[f"{ph.name}/{k}"] = v.detach()
        if self.recipe.ema:
            self.recipe.update_ema(self.ema_decay_at(self.step))
        for sch in self.schedulers.values():
            sch.step()
        return logs

    def ema_decay_at(self, step: int) -> float:
        """The configured decay, warmed up as min(decay, (1+t)/(10+t)) from ``ema_start`` so the
        average forgets the random initialisation quickly in short runs; 0 (copy) before it."""
        if step < self.cfg.ema_start:
            return 0.0
        t = step - self.cfg.ema_start
        return min(self.cfg.ema_decay, (1 + t) / (10 + t))

    def _bar_fields(self, record: dict[str, Any]) -> dict[str, str]:
        """The progress bar's fields: each phase's loss, then the recipe's declared signals
        (ProGAN's resolution and fade-in, BEGAN's M_global)."""
        fields = {k.split("/")[-1]: f"{v:.3g}" for k, v in record.items() if k.startswith("loss/")}
        for k in self.recipe.capabilities().signals:
            if isinstance(record.get(k), (int, float)):
                fields[k] = f"{record[k]:.3g}"
        return fields

    def _write_recipe_summary(self) -> None:
        """RUN/recipe.json: the recipe's nets with their parameter counts and what it offers."""
        summary = {
            "recipe": self.recipe.name,
            "nets": self.recipe.parameter_counts(),
            "capabilities": self.recipe.capabilities().to_dict(),
        }
        atomic_write_text(self.run.summary, json.dumps(summary, indent=1))

    def fit(self, callbacks: Iterable[Callback] = ()) -> list[dict[str, Any]]:
        """Train to ``train.steps`` (or until ``request_stop``); returns the logged records."""
        cfg = self.cfg
        self.callbacks += [cb for cb in callbacks if cb not in self.callbacks]
        if self.run is not None:
            self.run.create()
            self.hold_lock()
            self._write_recipe_summary()
            if self.step == 0:
                self.save_samples()
        bar = tqdm(
            total=cfg.steps,
            initial=self.step,
            disable=not cfg.progress,
            desc=self.recipe.name,
            dynamic_ncols=True,
            leave=False,
        )
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        n_steps, t0 = 0, time.perf_counter()
        saved_at = -1
        try:
            while self.step < cfg.steps and self.stop_reason is None:
                logs = self.train_step()
                self.step += 1
                for k, v in logs.items():  # averaged over the steps where the key was logged
                    sums[k] = sums[k] + v if k in sums else v.clone()
                    counts[k] = counts.get(k, 0) + 1
                n_steps += 1
                bar.update(1)
                for cb in self.callbacks:
                    cb.on_step(self)
                due = lambda every: every > 0 and (self.step % every == 0 or self.step == cfg.steps)  # noqa: E731
                if due(cfg.log_every):
                    self._raise_if_diverged()
                    record: dict[str, Any] = {"step": self.step}
                    record.update({k: float(v) / counts[k] for k, v in sums.items()})
                    record.update(self.recipe.logged_state())
                    record["sec_per_step"] = (time.perf_counter() - t0) / n_steps
                    if due(cfg.eval_every):
                        record.update(self.evaluate())
                    self.log(record)
                    for cb in self.callbacks:
                        cb.on_log(self, record)
                    bar.set_postfix(self._bar_fields(record))
                    sums, counts, n_steps, t0 = {}, {}, 0, time.perf_counter()
                elif due(cfg.eval_every):
                    self.log({"step": self.step, **self.evaluate()})
                if due(cfg.sample_every):
                    self.save_samples()
                if due(cfg.checkpoint_every):
                    self.save()
                    saved_at = self.step
            self._raise_if_diverged()
            if self.stop_reason is not None and saved_at != self.step:
                self.save()
        finally:
            self._release_params()
            self.release_lock()
            bar.close()
            if self._writer is not None:
                self._writer.flush()
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history


def load_recipe_weights(recipe: Recipe, state: dict[str, Any]) -> None:
    """Load a checkpoint's weights (and extra state) into a recipe, creating EMA copies the
    checkpoint has."""
    model = state["model"]
    if any(k.startswith("ema.") for k in model) and not recipe.ema:
        recipe.enable_ema()
    try:
        recipe.load_state_dict(model)
    except RuntimeError as e:
        raise CheckpointError(
            f"checkpoint weights do not fit recipe {recipe.name!r} as configured "
            f"({str(e).splitlines()[0][:200]}): was it trained with other hyper-parameters?"
        ) from None
    if state.get("extra"):
        recipe.load_extra_state(state["extra"])
    recipe.trained_steps = int(state.get("step", 0))
