"""What a recipe offers besides ``generate(n)``, as a registry: one module per capability.

Each module defines a mixin (the methods a recipe implements to offer it) and registers a
``Capability``: its name, the value a recipe offers (``value``: a flag, a latent size, the
codes' or directions' names), its conformance probe, its command-line flags and what
``ganarium sample`` draws for them, and its control on the interactive page. A recipe offers
a capability by inheriting its mixin; ``Capabilities.of(recipe)`` reads them, so a new family
adds a module here and touches neither ``recipe.py``, the CLI nor the page.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from torch import Tensor

from ganarium.errors import GanariumError
from ganarium.registry import Registry


class CapabilityError(GanariumError):
    """A recipe was asked for something its capabilities do not offer."""


@dataclass(frozen=True)
class Control:
    """How the interactive page lets a user drive a capability: a ``kind`` of widget
    (slider, number, dropdown, text, image, checkbox), its ``label``, and for sliders and
    numbers ``low`` / ``high`` / ``step`` / ``default``; ``choices`` names a capability value
    (e.g. the codes) a dropdown lists."""

    kind: str
    label: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    default: Any = None
    choices: str | None = None


@dataclass
class DrawContext:
    """What a command hands a capability's ``draw``: the sample count, the seed, and
    ``held_out(n)``, a fixed batch of up to n examples of the run's held-out data
    (translators' inputs; None when the data has no test split), so the capability needs no
    import of the runs layer."""

    n: int
    seed: int
    held_out: Callable[[int], dict[str, Tensor] | None] | None = None

    def held_out_examples(self, n: int) -> dict[str, Tensor] | None:
        return None if self.held_out is None else self.held_out(n)


@dataclass
class Sampling:
    """Plain sampling as ``ganarium sample`` will do it: ``n`` samples, ``nrow`` to a grid row,
    ``kwargs`` for ``generate`` (tensors are sliced per batch). Capabilities that change plain
    sampling rather than draw a grid of their own (labels, truncation) fill it in ``modify``."""

    n: int
    nrow: int
    kwargs: dict[str, Any] = field(default_factory=dict)


class Capability:
    """One thing a recipe may offer. Subclasses set ``name``, ``mixin`` and ``empty`` and
    override what applies."""

    name: ClassVar[str] = ""
    mixin: ClassVar[type] = object
    empty: ClassVar[Any] = False  # the value of a recipe that does not offer it
    doc: ClassVar[str] = ""  # one line for `ganarium info` and the docs
    control: ClassVar[Control | None] = None
    # True: its flag draws a grid of its own (one grid at a time); False: its flags change plain
    # sampling (``modify``)
    grid: ClassVar[bool] = True
    # True: a recipe offering it has no plain ``generate(n)``: ``ganarium sample`` with no flag
    # draws this capability's grid (translators' held-out rows)
    replaces_sampling: ClassVar[bool] = False
    # True: ``draw_input`` draws a grid from an uploaded image (the page's upload panel); its
    # ``control`` is then the upload, and ``input_value`` the control of the value beside it
    takes_input: ClassVar[bool] = False
    input_value: ClassVar[Control | None] = None  # e.g. the class to edit into; None: no value

    def value(self, recipe: Any) -> Any:
        """What ``recipe`` offers (``empty`` when nothing); by default True for the mixin."""
        return isinstance(recipe, self.mixin)

    # -- command line ---------------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add this capability's flags to ``ganarium sample``."""

    def asked(self, args: argparse.Namespace) -> bool:
        """Whether ``args`` ask for this capability's grid."""
        return False

    def flag(self) -> str | None:
        """The flag named in messages (``--mix``)."""
        return None

    def check_args(self, args: argparse.Namespace) -> None:
        """Refuse a bad flag value in one line before any work (called when ``asked``)."""

    def draw(self, recipe: Any, args: argparse.Namespace, ctx: DrawContext) -> tuple[Tensor, int]:
        """The grid ``args`` ask for: (images, images per row)."""
        raise NotImplementedError

    def draw_input(
        self, recipe: Any, image: Tensor, value: Any, ctx: DrawContext
    ) -> tuple[Tensor, int]:
        """The grid for an uploaded ``image`` (1, C, H, W), read at the data's shape in [-1, 1],
        and the ``input_value`` control's ``value`` (capabilities with ``takes_input``):
        (images of the data's shape, the input first; images per row)."""
        raise NotImplementedError

    def modify(self, recipe: Any, args: argparse.Namespace, plan: Sampling) -> None:
        """Change plain sampling as ``args`` ask (capabilities with ``grid = False``)."""

    # -- conformance ----------------------------------------------------------------------
    def probe(self, recipe: Any) -> None:
        """Exercise the offered capability on a small built recipe; raise AssertionError when
        it does not do what it declares."""


CAPABILITIES: Registry[Capability] = Registry("capability", package="ganarium.capabilities")


def register_capability(cls: type[Capability]) -> type[Capability]:
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    CAPABILITIES.add(cls.name, cls())
    return cls


class Capabilities:
    """The capabilities one recipe offers: ``caps.truncation``, ``caps.latent_dim`` ...
    (every registered name reads; ones not offered give their empty value)."""

    def __init__(self, **offered: Any) -> None:
        known = CAPABILITIES.names()
        for key in offered:
            if key not in known:
                raise ValueError(f"unknown capability {key!r}; registered: {', '.join(known)}")
        self._values = {k: v for k, v in offered.items()}

    @classmethod
    def of(cls, recipe: Any) -> Capabilities:
        """Derived from the mixins ``recipe`` inherits."""
        values = {}
        for name in CAPABILITIES.names():
            cap = CAPABILITIES.get(name)
            if isinstance(recipe, cap.mixin):
                values[name] = cap.value(recipe)
        return cls(**values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        if name in CAPABILITIES:
            return CAPABILITIES.get(name).empty
        raise AttributeError(f"no capability {name!r}; registered: {', '.join(CAPABILITIES)}")

    def replace(self, **changed: Any) -> Capabilities:
        return Capabilities(**{**self._values, **changed})

    def offered(self) -> list[str]:
        """The names of what is offered, for messages and ``ganarium info``."""
        return [k for k in CAPABILITIES.names() if self._values.get(k)]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CAPABILITIES.names()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Capabilities) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items() if v)
        return f"Capabilities({inner})"
