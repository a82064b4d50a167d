"""Recipes whose players come in stages or levels, a D and a G at each (StackGAN's stages,
LAPGAN's pyramid levels): players named ``D{s}`` and ``G{s}``, one Adam optimizer each, and one
D phase then one G phase per stage, every phase on the step's one batch."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import torch
from torch import nn

from ganarium.models import Phase


def adam_per_player(
    players: dict[str, nn.Module], lr: float, betas: tuple[float, float]
) -> dict[str, torch.optim.Optimizer]:
    """One Adam optimizer per player, by the player's name."""
    return {
        name: torch.optim.Adam(net.parameters(), lr=lr, betas=tuple(betas))
        for name, net in players.items()
    }


def stage_phases(
    stages: Iterable[int], d_loss: Callable, g_loss: Callable, batch: str | None = None
) -> list[Phase]:
    """Phases ``D{s}`` then ``G{s}`` for each stage s, their losses ``d_loss(s, batch, ctx)``
    and ``g_loss(s, batch, ctx)``, each stepping the optimizer of its name. Every phase reuses
    phase ``batch``'s batch (None: the first phase draws it and the others reuse it)."""
    phases = []
    for s in stages:
        for role, loss in (("D", d_loss), ("G", g_loss)):
            name = f"{role}{s}"
            phases.append(Phase(name, functools.partial(loss, s), name, batch=batch))
            batch = batch or name
    return phases
