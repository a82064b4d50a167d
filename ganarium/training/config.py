"""The training loop's settings (``train.*`` in the config) and their checks: ranges, the batch
split over processes and micro-batches, and the run's length in steps from ``kimg`` or
``epochs``."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch.utils.data import Dataset

from ganarium.errors import ConfigError


@dataclass
class TrainConfig:
    """Settings of the training loop (``train.*`` in the config).

    ``steps`` counts generator iterations (one pass over the recipe's phases); ``kimg`` (thousands
    of real images shown) or ``epochs`` (passes over the data), when set, give the length
    instead, converted to steps by the images each step shows (``Phase.real``). ``ema_decay``
    0 turns the generator's EMA off, None takes the data kind's default
    (``ganarium.training.ema.DEFAULT_EMA_DECAY``); ``ema_kimg`` sets it as a half-life in thousands of images
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
    threads: int = 0  # torch's CPU threads (set by `ganarium train`); 0: one per core
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


def length_in_steps(
    cfg: TrainConfig,
    images_per_step: float,
    dataset: Dataset,
    recipe: str,
    batch_size_at: Callable[[int, int], int | None] | None = None,
) -> TrainConfig:
    """``cfg`` with ``steps`` set from ``kimg`` or ``epochs`` when either is given, converted by
    the real images each step shows (``images_per_step`` at ``train.batch_size``; where the
    recipe sets the batch per step, ``batch_size_at(step, images_seen)``, by counting)."""
    if not (cfg.kimg or cfg.epochs):
        return cfg
    if images_per_step <= 0:
        raise ConfigError(
            f"recipe {recipe!r} shows no real images per step, so train.kimg and "
            "train.epochs cannot set its length: use train.steps"
        )
    images = cfg.kimg * 1000 if cfg.kimg else cfg.epochs * len(dataset)  # type: ignore[arg-type]
    if batch_size_at is None:
        return dataclasses.replace(cfg, steps=max(1, math.ceil(images / images_per_step)))
    batches_per_step = images_per_step / cfg.batch_size
    steps, seen = 0, 0.0
    while seen < images:  # the recipe sets each step's batch: count the steps to the images
        seen += batches_per_step * (batch_size_at(steps, int(seen)) or cfg.batch_size)
        steps += 1
    return dataclasses.replace(cfg, steps=max(1, steps))
