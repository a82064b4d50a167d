"""Recipes: one file per GAN (or small family). Importing this package registers them all.

The contract every recipe follows (``Recipe``, ``Phase``, ``StepContext``, ``Capabilities``) is
in ``ganarium.recipe``; this package holds the recipes, their registry and ``LearningCheck``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganarium.hparams import with_defaults
from ganarium.recipe import (  # noqa: F401 - the contract, re-exported for recipe modules
    Batch,
    Capabilities,
    CapabilityError,
    Phase,
    Preview,
    Recipe,
    StepContext,
    StepOutput,
    ema_update,
    eval_mode,
    generate_batched,
)
from ganarium.registry import Registry

RECIPES: Registry[type[Recipe]] = Registry("recipe", package="ganarium.models")


@dataclass(frozen=True)
class LearningCheck:
    """How a recipe proves it learns: train ``steps`` on small data, then compare a metric with
    the untrained model's. ``kind`` names a check in ``ganarium.checks``; ``bars`` are the
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
    """Register a recipe class under ``name`` and return the registered class, named: a
    subclass of ``cls`` whose ``name`` is ``name`` and whose hyper-parameters take the keyword
    ``defaults`` (so one class can serve several named recipes, e.g. ``gan`` and ``gan-ns``)."""

    def decorator(cls: type[Recipe]) -> type[Recipe]:
        cls = cls.__dict__.get("registered_from", cls)  # stacked: each names the same class
        hparams = with_defaults(cls.Hparams, name, defaults) if defaults else cls.Hparams
        variant = type(
            cls.__name__,
            (cls,),
            {
                "name": name,
                "Hparams": hparams,
                "registered_from": cls,
                "__doc__": cls.__doc__ or sys.modules[cls.__module__].__doc__,
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
            },
        )
        RECIPES.add(name, variant, paper=paper, year=year, family=family, data=data, check=check)
        return variant

    return decorator
