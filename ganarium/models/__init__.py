"""Recipes: one file per GAN (or small family). Importing this package registers them all.

A recipe is an ``nn.Module`` holding its nets. It says how training goes as a list of named
phases (``Phase``), each a loss to minimise with one optimizer, run every ``every`` steps and
repeated ``repeat`` times (n_critic). The Trainer runs phases and knows no recipe.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError, DataError, suggest
from ganarium.registry import Registry

RECIPES: Registry[type[Recipe]] = Registry("recipe", package="ganarium.models")

StepOutput = tuple[Tensor, dict[str, Tensor]]


@dataclass
class Phase:
    """One named part of a training step: ``loss(batch) -> (loss, logs)`` minimised by ``optimizer``.

    ``after`` runs after each optimizer step (e.g. WGAN's weight clipping).
    """

    name: str
    loss: Callable[[dict[str, Tensor]], StepOutput]
    optimizer: str
    every: int = 1
    repeat: int = 1
    after: Callable[[], None] | None = None


@dataclass(frozen=True)
class LearningCheck:
    """How a recipe proves it learns: train ``steps`` on small data, then compare a metric with
    the untrained model's. ``kind`` names a check in ``ganarium.learning``; ``bars`` are the
    thresholds it applies; ``reason`` explains any bar looser than the issue's default."""

    kind: str
    data: str
    steps: int
    data_options: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    bars: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    slow: bool = False


class Recipe(nn.Module):
    """Base of every recipe. Subclasses set ``defaults`` and implement build/phases/generate."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    requires_labels: ClassVar[bool] = False
    ema_nets: ClassVar[tuple[str, ...]] = ("G",)

    def __init__(self, info: DataInfo, **hparams: Any) -> None:
        super().__init__()
        self.info = info
        self.hp = SimpleNamespace(**self.resolve_hparams(hparams))
        if self.requires_labels and not info.labelled:
            raise DataError(
                f"recipe {self.name!r} needs labelled data, but {info.name!r} has no labels: "
                "use a labelled dataset such as digits"
            )
        self.ema = nn.ModuleDict()
        self.build(info)

    # -- configuration -------------------------------------------------------------------
    @classmethod
    def resolve_hparams(cls, given: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in given if k not in cls.defaults]
        if unknown:
            k = unknown[0]
            raise ConfigError(
                f"recipe {cls.name!r} has no hyper-parameter {k!r}.{suggest(k, cls.defaults)} "
                f"Known: {', '.join(sorted(cls.defaults))}"
            )
        return {**copy.deepcopy(cls.defaults), **given}

    # -- to override ---------------------------------------------------------------------
    def build(self, info: DataInfo) -> None:
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples in the data's range and shape. Conditional recipes cycle labels 0..K-1 by default."""
        raise NotImplementedError

    # -- helpers shared by recipes ---------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def net_for_sampling(self, name: str = "G") -> nn.Module:
        """The EMA copy of a net when the Trainer keeps one, else the net itself."""
        return self.ema[name] if name in self.ema else getattr(self, name)

    def enable_ema(self) -> None:
        for name in self.ema_nets:
            if name not in self.ema:
                shadow = copy.deepcopy(getattr(self, name))
                shadow.requires_grad_(False)
                self.ema[name] = shadow

    def update_ema(self, decay: float) -> None:
        """Move each EMA copy towards its net (``ema_update``)."""
        for name, shadow in self.ema.items():
            ema_update(shadow, getattr(self, name), decay)

    def default_labels(self, n: int) -> Tensor | None:
        if not self.info.labelled:
            return None
        return torch.arange(n, device=self.device) % self.info.num_classes

    def learning_state(self) -> dict[str, float]:
        """Scalars a recipe wants logged besides its losses (e.g. BEGAN's k_t)."""
        return {}


@torch.no_grad()
def ema_update(shadow: nn.Module, net: nn.Module, decay: float) -> None:
    """shadow <- decay * shadow + (1 - decay) * net, parameter by parameter; buffers (BN
    statistics) are copied."""
    for p_s, p in zip(shadow.parameters(), net.parameters()):
        p_s.lerp_(p.detach(), 1.0 - decay)
    for b_s, b in zip(shadow.buffers(), net.buffers()):
        b_s.copy_(b)


def register(
    name: str,
    *,
    paper: str,
    year: int,
    family: str,
    data: tuple[str, ...] = ("unconditional",),
    check: LearningCheck | None = None,
    **defaults: Any,
) -> Callable[[type[Recipe]], type[Recipe]]:
    """Register a recipe class under ``name``; keyword ``defaults`` override the class defaults,
    so one class can serve several named recipes (e.g. ``gan`` and ``gan-ns``)."""

    def decorator(cls: type[Recipe]) -> type[Recipe]:
        unknown = [k for k in defaults if k not in cls.defaults]
        if unknown:
            raise ValueError(f"register({name!r}): {unknown} are not defaults of {cls.__name__}")
        variant = type(
            cls.__name__,
            (cls,),
            {
                "name": name,
                "defaults": {**cls.defaults, **defaults},
                "__doc__": cls.__doc__ or sys.modules[cls.__module__].__doc__,
                "__module__": cls.__module__,
            },
        )
        RECIPES.add(name, variant, paper=paper, year=year, family=family, data=data, check=check)
        return cls

    return decorator
