"""The Trainer: runs any recipe's phases, schedules, EMA, mixed precision, logging, sample
grids, periodic evaluation, atomic checkpoints, exact resume and a divergence guard.

It knows no recipe: everything GAN-specific is in the recipe's ``phases()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch.utils.data import Dataset
from torchvision.utils import make_grid, save_image
from tqdm.auto import tqdm

from ganarium.checkpoint import load_checkpoint, save_checkpoint
from ganarium.data.stream import BatchStream
from ganarium.errors import CheckpointError, ConfigError, DivergenceError
from ganarium.models import Recipe
from ganarium.rundir import RunDir

Evaluator = Callable[[Recipe], dict[str, float]]


@dataclass
class TrainConfig:
    """Settings of the training loop (``train.*`` in the config).

    ``steps`` counts generator iterations (one pass over the recipe's phases). ``ema_decay``
    0 turns the generator's EMA off. Intervals of 0 turn that periodic work off.
    """

    steps: int = 5000
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    amp: Literal["none", "bf16", "fp16"] = "none"
    ema_decay: float | None = None
    ema_start: int = 0
    lr_schedule: Literal["constant", "linear"] = "constant"
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int = 0
    n_grid: int = 64
    num_workers: int = 0
    progress: bool = True
    tensorboard: bool = True

    def validate(self) -> None:
        if self.steps < 0 or self.batch_size < 1:
            raise ConfigError("train.steps must be >= 0 and train.batch_size >= 1")
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay={self.ema_decay} must be in [0, 1)")
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


class Trainer:
    """Trains ``recipe`` on ``dataset`` as configured by ``cfg``, writing to ``run`` (optional)."""

    def __init__(
        self,
        recipe: Recipe,
        dataset: Dataset,
        cfg: TrainConfig,
        run: RunDir | None = None,
        evaluators: list[Evaluator] | None = None,
        config_record: dict[str, Any] | None = None,
    ) -> None:
        cfg.validate()
        if cfg.ema_decay is None:
            cfg = dataclasses.replace(cfg, ema_decay=0.999 if recipe.info.kind == "image" else 0.0)
        self.cfg, self.run, self.evaluators = cfg, run, list(evaluators or [])
        self.config_record = config_record or {}
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.recipe = recipe.to(self.device)
        if cfg.ema_decay > 0:
            self.recipe.enable_ema()
        self.optimizers = self.recipe.configure_optimizers()
        self.phases = self.recipe.phases()
        # 'linear' decays every learning rate to 0 at train.steps, letting the players settle
        self.schedulers = {
            k: torch.optim.lr_scheduler.LambdaLR(o, self._lr_factor)
            for k, o in self.optimizers.items()
        }
        for ph in self.phases:
            if ph.optimizer not in self.optimizers:
                raise ValueError(f"phase {ph.name!r} names unknown optimizer {ph.optimizer!r}")
        self.stream = BatchStream(dataset, cfg.batch_size, cfg.seed, self.device, cfg.num_workers)
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=cfg.amp == "fp16")
        # A fixed latent batch for the periodic sample grids, drawn from its own generator so
        # grids never consume the training RNG stream.
        G = getattr(self.recipe, "G", None)
        self.grid_z = None
        if G is not None and hasattr(G, "z_dim"):
            g = torch.Generator().manual_seed(cfg.seed + 12345)
            self.grid_z = torch.randn(cfg.n_grid, G.z_dim, generator=g).to(self.device)
        self.step = 0
        self._writer = None
        self.history: list[dict[str, Any]] = []

    def _lr_factor(self, step: int) -> float:
        if self.cfg.lr_schedule == "linear" and self.cfg.steps > 0:
            return max(0.0, 1.0 - step / self.cfg.steps)
        return 1.0

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.name,
            "info": self.recipe.info.to_dict(),
            "step": self.step,
            "model": self.recipe.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: sch.state_dict() for k, sch in self.schedulers.items()},
            "scaler": self.scaler.state_dict(),
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
        self.scaler.load_state_dict(state["scaler"])
        self.stream.load_state_dict(state["stream"])
        torch.set_rng_state(state["rng_cpu"])
        if state["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.step = int(state["step"])

    def save(self) -> None:
        if self.run is None:
            return
        for p in self.recipe.parameters():
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"parameters became non-finite by step {self.step}; not saving. The last good "
                    f"checkpoint {self.run.latest} is intact: lower the learning rate and resume."
                )
        state = self.state_dict()
        save_checkpoint(self.run.step_checkpoint(self.step), state)
        save_checkpoint(self.run.latest, state)
        for old in self.run.step_checkpoints()[: -self.cfg.keep_checkpoints or None]:
            old.unlink(missing_ok=True)

    def resume(self) -> None:
        if self.run is None or not self.run.has_checkpoint():
            raise CheckpointError("nothing to resume: the run has no checkpoints/latest.pt")
        self.load_state_dict(load_checkpoint(self.run.latest, self.device))
        self.run.truncate_metrics(self.step)

    # -- logging ---------------------------------------------------------------------------
    @property
    def writer(self):
        if self._writer is None and self.run is not None and self.cfg.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run.tb), purge_step=self.step + 1)
        return self._writer

    def log(self, record: dict[str, Any]) -> None:
        self.history.append(record)
        if self.run is None:
            return
        self.run.append_metrics(record)
        if self.writer is not None:
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float)):
                    self.writer.add_scalar(k, v, record["step"])

    def save_samples(self) -> None:
        if self.run is None or self.grid_z is None or self.recipe.info.kind != "image":
            return
        x = self.recipe.generate(len(self.grid_z), z=self.grid_z).float().cpu()
        grid = make_grid(x, nrow=int(math.sqrt(len(x))) or 1, normalize=True, value_range=(-1, 1))
        self.run.samples.mkdir(parents=True, exist_ok=True)
        save_image(grid, self.run.sample_grid(self.step))
        if self.writer is not None:
            self.writer.add_image("samples", grid, self.step)

    def evaluate(self) -> dict[str, float]:
        out: dict[str, float] = {}
        # Evaluators draw their own noise; forking keeps the training RNG stream (and so a
        # resumed run) independent of whether and when evaluation happened.
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            for ev in self.evaluators:
                out.update(ev(self.recipe))
        return out

    # -- the loop --------------------------------------------------------------------------
    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator iteration: every due phase, each ``repeat`` times. Returns detached logs."""
        logs: dict[str, torch.Tensor] = {}
        for ph in self.phases:
            if self.step % ph.every:
                continue
            opt = self.optimizers[ph.optimizer]
            for _ in range(ph.repeat):
                batch = next(self.stream)
                with self._autocast():
                    loss, parts = ph.loss(batch)
                if not torch.isfinite(loss):
                    raise DivergenceError(
                        f"training diverged at step {self.step}: the {ph.name} loss is {loss.item()}. "
                        f"The last good checkpoint is kept; try a lower learning rate."
                    )
                opt.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                self.scaler.step(opt)
                self.scaler.update()
                if ph.after is not None:
                    ph.after()
            logs[f"loss/{ph.name}"] = loss.detach()
            for k, v in parts.items():
                logs[f"{ph.name}/{k}"] = v
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

    def fit(self) -> list[dict[str, Any]]:
        cfg = self.cfg
        if self.run is not None:
            self.run.create()
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
        n_sum, t0 = 0, time.perf_counter()
        try:
            while self.step < cfg.steps:
                logs = self.train_step()
                self.step += 1
                for k, v in logs.items():
                    sums[k] = sums[k] + v if k in sums else v.clone()
                n_sum += 1
                bar.update(1)
                due = lambda every: every > 0 and (self.step % every == 0 or self.step == cfg.steps)  # noqa: E731
                if due(cfg.log_every):
                    record: dict[str, Any] = {"step": self.step}
                    record.update({k: float(v) / n_sum for k, v in sums.items()})
                    record.update(self.recipe.learning_state())
                    record["sec_per_step"] = (time.perf_counter() - t0) / n_sum
                    if due(cfg.eval_every):
                        record.update(self.evaluate())
                    self.log(record)
                    bar.set_postfix(
                        {
                            k.split("/")[-1] if k.startswith("loss/") else k: f"{v:.3g}"
                            for k, v in record.items()
                            if k.startswith("loss/")
                        }
                    )
                    sums, n_sum, t0 = {}, 0, time.perf_counter()
                elif due(cfg.eval_every):
                    self.log({"step": self.step, **self.evaluate()})
                if due(cfg.sample_every):
                    self.save_samples()
                if due(cfg.checkpoint_every):
                    self.save()
        finally:
            bar.close()
            if self._writer is not None:
                self._writer.flush()
        return self.history


def load_recipe_weights(recipe: Recipe, state: dict[str, Any]) -> None:
    """Load a checkpoint's weights into a recipe, creating EMA copies the checkpoint has."""
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
