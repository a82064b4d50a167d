"""Progress signals: ``signal_names()`` are ``learning_state()`` keys that measure progress,
charted first in the report."""

from __future__ import annotations

import math
from typing import Any

from ganarium.capabilities import Capability, register_capability


class Signals:
    """Mixin: a recipe offers learning_state() keys that measure progress."""

    def signal_names(self) -> tuple[str, ...]:
        raise NotImplementedError


@register_capability
class SignalsCapability(Capability):
    name = "signals"
    mixin = Signals
    empty = ()
    doc = "learning_state() keys that measure progress"

    def value(self, recipe: Signals) -> object:
        return tuple(recipe.signal_names())

    def probe(self, recipe: Any) -> None:
        """Distinct names; whichever of them the recipe logs now are finite numbers."""
        names = recipe.capabilities().signals
        assert names and all(isinstance(s, str) and s for s in names), f"signals {names!r}"
        assert len(set(names)) == len(names), f"signals {names!r} repeat"
        state = recipe.learning_state()
        for name in set(names) & set(state):
            assert math.isfinite(float(state[name])), f"signal {name} is {state[name]}"
