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
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.data import Dataset
from torchvision.utils import make_grid, save_image
from tqdm.auto import tqdm

from ganarium.amp import loss_scale
from ganarium.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from ganarium.data.stream import BatchStream, fixed_examples
from ganarium.distributed import SingleDevice, strategy_for
from ganarium.distributed import resolve_device as resolve_device  # re-exported
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

    ``steps`` counts generator iterations (one pass over the recipe's phases); ``kimg`` (thousands
    of real images shown) or ``epochs`` (passes over the data), when set, give the length
    instead, converted to steps by the images each step shows (``Phase.real``). ``ema_decay``
    0 turns the generator's EMA off; ``ema_kimg`` sets it as a half-life in thousands of images
    instead (StyleGAN2's 10 kimg), ramped up over the first ``ema_rampup`` x images seen
    (0: no ramp). ``batch_size`` is the images per optimizer step over all processes and
    micro-batches: ``accumulate`` micro-batches per step (gradients averaged), on each of the
    processes torchrun starts; ``sync_bn`` makes batch norm use the statistics of every
    process's batch (CUDA only, as torch's SyncBatchNorm). Intervals of 0 turn that periodic
    work off. A recipe's
    ``train_defaults`` (e.g. CycleGAN's linear decay from half-way) replace these defaults.

    Speed switches, all off by default (each changes rounding or, for ``cudnn_benchmark``,
    run-to-run determinism): ``channels_last`` keeps the nets' 4-d weights and the image
    batches in channels-last memory order; ``compile`` runs the nets through ``torch.compile``
    (``compile_backend``; phases that take input gradients run eager); ``optimizer_impl``
    picks torch's Adam/RMSprop kernel (``auto``: torch's choice, the for-loop on the CPU and
    foreach on CUDA; ``foreach``; ``fused``: one kernel per step, for Adam on CUDA or CPU);
    ``cudnn_benchmark`` lets cuDNN time its convolution algorithms (CUDA).
    """

    steps: int = 5000
    kimg: float = 0.0
    epochs: float = 0.0
    batch_size: int = 64
    accumulate: int = 1
    sync_bn: bool = False
    seed: int = 0
    device: str = "auto"
    amp: Literal["none", "bf16", "fp16"] = "none"
    ema_decay: float | None = None
    ema_start: int = 0
    ema_kimg: float = 0.0
    ema_rampup: float = 0.0
    ema_warmup: bool = True
    lr_schedule: Literal["constant", "linear", "step"] = "constant"
    lr_decay_start: float = 0.0
    lr_step_factor: float = 0.1
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int = 0
    n_grid: int = 64
    num_workers: int = 0
    threads: int = 0  # torch's CPU threads; 0: torch's default (one per core)
    channels_last: bool = False
    compile: bool = False
    compile_backend: str = "inductor"
    optimizer_impl: Literal["auto", "foreach", "fused"] = "auto"
    cudnn_benchmark: bool = False
    progress: bool = True
    tensorboard: bool = True

    def validate(self) -> None:
        """Refuse, in one line, any setting outside its range."""
        at_least = {
            "steps": 0,
            "batch_size": 1,
            "accumulate": 1,
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
        for key in ("kimg", "epochs", "ema_kimg", "ema_rampup"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"train.{key}={value!r} must be a number >= 0 (0 turns it off)")
        if self.kimg and self.epochs:
            raise ConfigError(
                f"train.kimg={self.kimg} and train.epochs={self.epochs} both set the run's "
                "length: set one of them (or train.steps)"
            )
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay={self.ema_decay} must be in [0, 1)")
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", str(self.device)):
            raise ConfigError(f"train.device={self.device!r}: use auto, cpu, cuda or cuda:N")
        if not 0.0 <= self.lr_decay_start < 1.0:
            raise ConfigError(
                f"train.lr_decay_start={self.lr_decay_start} must be in [0, 1) (a fraction of "
                "train.steps)"
            )
        if self.lr_schedule not in ("constant", "linear", "step"):
            raise ConfigError(
                f"train.lr_schedule={self.lr_schedule!r}: use constant, linear or step"
            )
        if not 0.0 < self.lr_step_factor <= 1.0:
            raise ConfigError(f"train.lr_step_factor={self.lr_step_factor} must be in (0, 1]")
        if self.amp not in ("none", "bf16", "fp16"):
            raise ConfigError(f"train.amp={self.amp!r}: use none, bf16 or fp16")
        if self.optimizer_impl not in ("auto", "foreach", "fused"):
            raise ConfigError(
                f"train.optimizer_impl={self.optimizer_impl!r}: use auto, foreach or fused"
            )
        if self.compile and self.compile_backend not in torch.compiler.list_backends(None):
            raise ConfigError(
                f"train.compile_backend={self.compile_backend!r} is not a torch.compile backend: "
                f"use one of {', '.join(torch.compiler.list_backends())}"
            )
        check_batch_split(self.batch_size, 1, self.accumulate)


def check_batch_split(batch_size: int, world_size: int, accumulate: int) -> None:
    """Refuse, in one line, a global batch that does not split evenly into ``world_size``
    processes x ``accumulate`` micro-batches."""
    parts = world_size * accumulate
    if batch_size % parts:
        low = max(parts, batch_size // parts * parts)
        raise ConfigError(
            f"train.batch_size={batch_size} (images per optimizer step over all processes and "
            f"micro-batches) must divide by {world_size} processes x train.accumulate="
            f"{accumulate} = {parts}: use {low} or {low + parts}"
        )


FUSABLE = (torch.optim.Adam, torch.optim.AdamW)
FOREACHABLE = (*FUSABLE, torch.optim.RMSprop, torch.optim.SGD)


def set_optimizer_impl(optimizers: Iterable[torch.optim.Optimizer], impl: str) -> None:
    """Point torch's Adam (and RMSprop, SGD for ``foreach``) at the kernel ``impl`` names:
    ``auto`` leaves torch's choice, ``foreach`` a few multi-tensor kernels per step, ``fused``
    one kernel per parameter group (Adam, AdamW; on CUDA it also unscales fp16 gradients inside
    the kernel, so the loss scaler's step needs no host sync). Other optimizers are left
    alone."""
    for opt in optimizers:
        fused = impl == "fused" and isinstance(opt, FUSABLE)
        if not (fused or isinstance(opt, FOREACHABLE)):
            continue
        for group in opt.param_groups:
            if impl == "auto":  # torch's choice, also after resuming a run that made another
                group.update({k: None for k in ("foreach", "fused") if group.get(k)})
                continue
            group["foreach"] = not fused
            if fused or "fused" in group:
                group["fused"] = True if fused else None
            if fused:  # a fused step counts on the parameter's device (a resumed CPU count moves)
                for p in group["params"]:
                    step = opt.state.get(p, {}).get("step")
                    if isinstance(step, torch.Tensor):
                        opt.state[p]["step"] = step.to(p.device, torch.float32)
        opt._step_supports_amp_scaling = fused  # type: ignore[attr-defined]


def takes_input_gradients(error: BaseException) -> bool:
    """Whether ``error`` is torch.compile refusing to differentiate a compiled net twice."""
    text = str(error)
    return "double backward" in text or "donated buffer" in text


class _InputGradientWatch(TorchFunctionMode):
    """Notes whether the code run inside it calls ``torch.autograd.grad`` (a gradient penalty,
    R1, path length, a latent step: everything ``ganarium.amp.input_grad`` computes)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.autograd.grad:
            self.seen = True
        return func(*args, **(kwargs or {}))


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
    preview needs inputs (translators); the training data by default. ``strategy`` says where
    it trains (``ganarium.distributed``): by default one device, or data-parallel under
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
        if cfg.ema_decay is None:
            cfg = dataclasses.replace(cfg, ema_decay=0.999 if recipe.info.kind == "image" else 0.0)
        self.cfg, self.run, self.evaluators = cfg, run, list(evaluators or [])
        self.callbacks = list(callbacks or [])
        self.config_record = config_record or {}
        self.strategy = strategy or strategy_for(cfg.device)
        check_batch_split(cfg.batch_size, self.strategy.world_size, cfg.accumulate)
        self.device = self.strategy.device
        self._set_cpu_threads()
        torch.manual_seed(cfg.seed)
        self.recipe = recipe.to(self.device)
        self.strategy.prepare(self.recipe, cfg.sync_bn)
        if cfg.channels_last:
            self.recipe.to(memory_format=torch.channels_last)
        if cfg.cudnn_benchmark and self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        if cfg.ema_decay > 0 or cfg.ema_kimg > 0:
            self.recipe.enable_ema()
        self.optimizers = self.recipe.configure_optimizers()
        set_optimizer_impl(self.optimizers.values(), cfg.optimizer_impl)
        if cfg.compile:
            for net in self.recipe.nets().values():
                net.compile(backend=cfg.compile_backend)
        self._input_grad_phases: set[str] = set()  # run eager under train.compile
        self._probed: set[str] = set()  # phases whose first run was watched for input gradients
        self._host_scale: dict[str, float] = {}  # each fp16 scaler's scale as last read
        self._scale_current: set[str] = set()  # scalers not updated since that read
        self.phases = self.recipe.phases()
        self._check_phases(self.phases)
        self.cfg = cfg = self._length_in_steps(cfg, dataset)
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
        self.stream = BatchStream(
            dataset,
            cfg.batch_size,
            cfg.seed,
            self.device,
            cfg.num_workers,
            self.strategy.rank,
            self.strategy.world_size,
        )
        self._preview_source = preview_dataset if preview_dataset is not None else dataset
        self._preview_examples: Batch | None = None
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.step = 0
        self.images_seen = 0  # real images shown so far (fresh batches of phases with real=True)
        self.restarted = False  # resumed from a run that had no checkpoint yet: from step 0
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
        end (CycleGAN's schedule with 0.5; from the start with 0). 'step': multiplied by
        ``lr_step_factor`` from ``lr_decay_start`` of train.steps on (SRGAN's 1e-4 -> 1e-5)."""
        if self.cfg.steps <= 0:
            return 1.0
        t, start = step / self.cfg.steps, self.cfg.lr_decay_start
        if self.cfg.lr_schedule == "linear":
            return max(0.0, min(1.0, (1.0 - t) / (1.0 - start)))
        if self.cfg.lr_schedule == "step":
            return self.cfg.lr_step_factor if t >= start else 1.0
        return 1.0

    def real_batches_per_step(self) -> float:
        """Fresh batches of real images shown per step, on average over ``every``."""
        return sum(ph.repeat / ph.every for ph in self.phases if ph.real and ph.batch is None)

    def _length_in_steps(self, cfg: TrainConfig, dataset: Dataset) -> TrainConfig:
        """``cfg`` with ``steps`` set from ``kimg`` or ``epochs`` when either is given."""
        if not (cfg.kimg or cfg.epochs):
            return cfg
        per_step = self.real_batches_per_step() * cfg.batch_size
        if per_step <= 0:
            raise ConfigError(
                f"recipe {self.recipe.name!r} shows no real images per step, so train.kimg and "
                "train.epochs cannot set its length: use train.steps"
            )
        images = cfg.kimg * 1000 if cfg.kimg else cfg.epochs * len(dataset)  # type: ignore[arg-type]
        return dataclasses.replace(cfg, steps=max(1, math.ceil(images / per_step)))

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.name,
            "info": self.recipe.info.to_dict(),
            "step": self.step,
            "images_seen": self.images_seen,
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
        set_optimizer_impl(self.optimizers.values(), self.cfg.optimizer_impl)
        for k, sch in self.schedulers.items():
            sch.load_state_dict(state["schedulers"][k])
        for k, scaler in self.scalers.items():
            scaler.load_state_dict(state.get("scalers", {}).get(k, {}))
        self._scale_current.clear()
        self.stream.load_state_dict(state["stream"])
        torch.set_rng_state(state["rng_cpu"])
        if state["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.step = int(state["step"])
        # checkpoints before 0.2 did not store it: every fresh batch was counted then
        self.images_seen = int(state.get("images_seen", self.stream.drawn * self.cfg.batch_size))

    def save(self) -> Path | None:
        """Write the step's checkpoint and ``latest.pt`` atomically; returns the step's file."""
        if self.run is None:
            return None
        self._raise_if_diverged()
        self.strategy.sync_state(self.recipe)
        for p in self.recipe.parameters():
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"parameters became non-finite by step {self.step}; not saving. The last good "
                    f"checkpoint {self.run.latest} is intact: lower the learning rate and resume."
                )
        if not self.writes:
            return None
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
        if self.writes:
            self.run.truncate_metrics(self.step)

    @property
    def writes(self) -> bool:
        """Whether this process writes the run: it has one and is rank 0 (or alone)."""
        return self.run is not None and self.strategy.is_writer

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
        if not self.writes:
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
        if not self.writes:
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
        """The evaluators' figures (rank 0's under torchrun; other processes get none)."""
        out: dict[str, float] = {}
        if not self.strategy.is_writer:
            return out
        with self._fork_rng():
            for ev in self.evaluators:
                out.update(ev(self.recipe))
        for cb in self.callbacks:
            cb.on_evaluate(self, out)
        return out

    def hold_lock(self) -> None:
        """Take the run's writer lock (one writer per run) unless already held."""
        if self.writes and self.lock is None:
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
        """Raise at the first step any process saw a non-finite loss (every process raises the
        same line at the same step: the flags are reduced here, at log and checkpoint time)."""
        names = list(self._nonfinite)
        if self.strategy.world_size > 1:
            names = list(dict.fromkeys(ph.name for ph in self.phases))
        firsts, values = [], []
        for phase in names:
            first, value = self._nonfinite.get(phase, (None, None))
            firsts.append(-1 if first is None else int(first))
            values.append(value.item() if firsts[-1] >= 0 else 0.0)
        firsts, values = self.strategy.earliest(firsts, values)
        for phase, first, value in zip(names, firsts, values, strict=True):
            if first >= 0:
                raise DivergenceError(
                    f"training diverged at step {first}: the {phase} loss is {value}. "
                    "The last good checkpoint is kept; try a lower learning rate."
                )
        for name, scaler in self.scalers.items():
            if scaler.is_enabled() and scaler.get_scale() < FP16_MIN_SCALE:
                raise DivergenceError(
                    f"training diverged by step {self.step}: under fp16 the {name} losses stay "
                    "non-finite (loss scale below 1e-3). Try train.amp=bf16 or a lower learning rate."
                )

    def _backward(self, name: str, loss: torch.Tensor, first: bool) -> None:
        """Back-propagate one micro-batch's loss for optimizer ``name`` (the first clears the
        gradients; later ones add to them)."""
        opt, scaler = self.optimizers[name], self.scalers[name]
        if first:
            opt.zero_grad(set_to_none=True)
        if not scaler.is_enabled():
            loss.backward()
        else:
            scaler.scale(loss).backward()

    def _optimizer_step(self, name: str, verdict: bool = True) -> bool:
        """Average the gradients over processes and step optimizer ``name``; False when the
        fp16 scaler skipped the step. Only a ``verdict`` (asked for phases with an ``after``
        hook) reads the scale on the host; otherwise the step stays free of host syncs (bar
        the one torch's scaler takes for optimizers without fused unscaling)."""
        opt, scaler = self.optimizers[name], self.scalers[name]
        self.strategy.reduce_gradients(self._params[name])
        if not scaler.is_enabled():
            opt.step()
            return True
        if verdict and name not in self._scale_current:
            self._host_scale[name] = scaler.get_scale()
        before = self._host_scale.get(name, 0.0)
        scaler.step(opt)
        scaler.update()
        if not verdict:
            self._scale_current.discard(name)
            return True
        after = self._host_scale[name] = scaler.get_scale()
        self._scale_current.add(name)
        return after >= before  # the scale drops exactly when the step was skipped

    def _loss_scale(self, phase: Phase) -> float:
        """The fp16 loss scale ``input_grad`` multiplies by in ``phase``: read from the device
        (a host sync) only for phases that take input gradients, or not yet known not to; the
        others never use it, and get the value last read."""
        scaler = self.scalers[phase.optimizer]
        if not scaler.is_enabled():
            return 1.0
        name = phase.optimizer
        fresh = phase.name in self._input_grad_phases or phase.name not in self._probed
        if (fresh and name not in self._scale_current) or name not in self._host_scale:
            self._host_scale[name] = scaler.get_scale()
            self._scale_current.add(name)
        return self._host_scale[name]

    def _phase_mode(self, phase: Phase):
        """Compiled nets run eager in phases that take input gradients."""
        if self.cfg.compile and phase.name in self._input_grad_phases:
            return torch.compiler.set_stance("force_eager")
        return contextlib.nullcontext()

    def _run_eager(self, phase: Phase, why: str) -> None:
        self._input_grad_phases.add(phase.name)
        if self.cfg.compile and self.strategy.is_writer:
            print(
                f"ganarium: train.compile: phase {phase.name!r} {why}, which compiled nets "
                "cannot differentiate twice: it runs eager",
                file=sys.stderr,
            )

    def _loss_and_backward(
        self, phase: Phase, batch: Batch, ctx: StepContext, first: bool
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run ``phase``'s loss on one micro-batch and back-propagate it (scaled by 1/K).

        Under ``train.compile`` or fp16 a phase's first run is watched, eager, for calls of
        ``torch.autograd.grad``; a phase that makes them keeps running eager (compile) and reads
        the fresh loss scale (fp16). A compiled phase that fails to differentiate twice later
        (a penalty its first run skipped) is rerun eager from the same random state."""
        k = self.cfg.accumulate
        probe = (self.cfg.compile or self.cfg.amp == "fp16") and phase.name not in self._probed
        rerun = self.cfg.compile and not probe and phase.name not in self._input_grad_phases
        rng = self._rng_state() if rerun else None
        watch = _InputGradientWatch() if probe else contextlib.nullcontext()
        stance = torch.compiler.set_stance("force_eager") if probe and self.cfg.compile else None
        try:
            with self._phase_mode(phase), stance or contextlib.nullcontext():
                with self._autocast(), loss_scale(self._loss_scale(phase)), watch:
                    loss, parts = phase.loss(batch, ctx)
            self._watch_finite(phase.name, loss)
            self._backward(phase.optimizer, loss / k if k > 1 else loss, first)
        except RuntimeError as e:
            if rng is None or not takes_input_gradients(e):
                raise
            self._run_eager(phase, "took input gradients after its first step")
            self._set_rng_state(rng)
            return self._loss_and_backward(phase, batch, ctx, first)
        if probe:
            self._probed.add(phase.name)
            if watch.seen:
                self._run_eager(phase, "takes input gradients (a penalty such as R1 or GP)")
        return loss, parts

    def _rng_state(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda

    def _set_rng_state(self, state: tuple[torch.Tensor, torch.Tensor | None]) -> None:
        torch.set_rng_state(state[0])
        if state[1] is not None:
            torch.cuda.set_rng_state(state[1], self.device)

    def _draw(self) -> list[Batch]:
        """This process's part of the next global batch, as ``train.accumulate`` micro-batches."""
        batch = next(self.stream)
        if self.cfg.channels_last:
            batch = {
                key: v.contiguous(memory_format=torch.channels_last) if v.dim() == 4 else v
                for key, v in batch.items()
            }
        k = self.cfg.accumulate
        if k == 1:
            return [batch]
        chunks = {key: v.chunk(k) for key, v in batch.items()}
        return [{key: c[m] for key, c in chunks.items()} for m in range(k)]

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
        ctx = StepContext(self.step, self.cfg.steps, self.images_seen)
        k = self.cfg.accumulate
        reseed = k * self.strategy.world_size > 1
        drawn: dict[str, list[Batch]] = {}
        shared = [ctx.shared] + [{} for _ in range(k - 1)]
        for i, ph in enumerate(self.phases):
            if self.step % ph.every:
                continue
            self._train_only(ph.optimizer)
            for r in range(ph.repeat):
                ctx.repeat = r
                if ph.batch is not None:
                    batches = drawn[ph.batch]
                else:
                    batches = self._draw()
                    if ph.real:
                        self.images_seen += self.cfg.batch_size
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
            self.recipe.update_ema(self.ema_decay_at(self.step, self.images_seen))
        for sch in self.schedulers.values():
            sch.step()
        return logs

    def ema_decay_at(self, step: int, images_seen: int = 0) -> float:
        """The EMA decay after ``step``: 0 (copy) before ``ema_start``; with ``ema_kimg`` a
        half-life of that many thousand images, 0.5 ** (batch / half-life), the half-life
        capped at ``ema_rampup`` x images seen when ramped (Karras et al. 2020); otherwise the
        configured decay, warmed up as min(decay, (1+t)/(10+t)) so the average forgets the
        random initialisation quickly in short runs (``ema_warmup``; without it, the decay
        itself from ``ema_start`` on, as BigGAN's 0.9999 from iteration 20k)."""
        cfg = self.cfg
        if step < cfg.ema_start:
            return 0.0
        if cfg.ema_kimg > 0:
            half_life = cfg.ema_kimg * 1000
            if cfg.ema_rampup > 0:
                half_life = min(half_life, images_seen * cfg.ema_rampup)
            return 0.5 ** (cfg.batch_size / max(half_life, 1e-8))
        if not cfg.ema_warmup:  # BigGAN: the decay itself from ema_start on
            return cfg.ema_decay
        t = step - cfg.ema_start
        return min(cfg.ema_decay, (1 + t) / (10 + t))

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
            # per player (what its optimizer steps, EMA copies excluded), then per net
            "nets": {
                k: sum(p.numel() for p in ps)
                for k, ps in player_parameters(self.optimizers).items()
            },
            "modules": self.recipe.parameter_counts(),
            "capabilities": self.recipe.capabilities().to_dict(),
        }
        atomic_write_text(self.run.summary, json.dumps(summary, indent=1))

    def _agreed_stop(self) -> bool:
        """Whether to stop now: ``request_stop`` (a signal, a callback) on any process stops
        every process after the same step."""
        stop = self.stop_reason is not None
        if self.strategy.world_size > 1 and self.strategy.any(stop) and not stop:
            self.stop_reason = "stopped on another process"
            stop = True
        return stop

    def _mean_over_processes(self, record: dict[str, Any]) -> None:
        """Logged numbers averaged over the processes that logged them (in place)."""
        if self.strategy.world_size == 1:
            return
        numbers = {
            k: float(v)
            for k, v in record.items()
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        record.update(self.strategy.mean(numbers))

    def fit(self, callbacks: Iterable[Callback] = ()) -> list[dict[str, Any]]:
        """Train to ``train.steps`` (or until ``request_stop``); returns the logged records."""
        cfg = self.cfg
        self.callbacks += [cb for cb in callbacks if cb not in self.callbacks]
        if self.writes:
            self.run.create()
            self.hold_lock()
            self._write_recipe_summary()
            if self.step == 0:
                self.save_samples()
        bar = tqdm(
            total=cfg.steps,
            initial=self.step,
            disable=not cfg.progress or not self.strategy.is_writer,
            desc=self.recipe.name,
            dynamic_ncols=True,
            leave=False,
        )
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        n_steps, t0 = 0, time.perf_counter()
        saved_at = -1
        try:
            stop = self._agreed_stop()
            while self.step < cfg.steps and not stop:
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
                    self._mean_over_processes(record)
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
                stop = self._agreed_stop()
            self._raise_if_diverged()
            if self._agreed_stop() and saved_at != self.step:
                self.save()
            self.strategy.sync_state(self.recipe)
        finally:
            self._release_params()
            self.release_lock()
            bar.close()
            if self._writer is not None:
                self._writer.flush()
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history


def player_parameters(
    optimizers: dict[str, torch.optim.Optimizer],
) -> dict[str, list[torch.nn.Parameter]]:
    """Each player's parameters: what its optimizer steps (so EMA copies and frozen teachers are
    left out), a parameter in two of its groups once."""
    out: dict[str, list[torch.nn.Parameter]] = {}
    for player, opt in optimizers.items():
        seen: dict[int, torch.nn.Parameter] = {}
        for group in opt.param_groups:
            for p in group["params"]:
                seen.setdefault(id(p), p)
        out[player] = list(seen.values())
    return out


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
