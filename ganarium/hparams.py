"""Typed hyper-parameters: each key declared once, with its default, one line of help and what it
allows (a range, choices or a rule), as a field of a dataclass.

A recipe's ``Hparams`` inherits its family's, so a key is declared where it is introduced and a
subclass that only changes a default writes ``key: T = override(value)``. Config validation,
``ganarium info``, the study's search spaces and the docs read these declarations
(``Hparams.specs()``); cross-key rules go in ``Hparams.check()``, never in a recipe's ``build``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from ganarium.compat import REMOVED_HPARAMS
from ganarium.errors import ConfigError, suggest


@dataclass(frozen=True)
class Spec:
    """What a key allows: ``help`` (one line), ``test`` (value -> ok) and ``rule`` (the test in
    words, for the error), or ``choices``."""

    help: str = ""
    test: Callable[[Any], bool] | None = None
    rule: str = ""
    choices: tuple[Any, ...] | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, or None when it is allowed."""
        if self.choices is not None and value not in self.choices:
            return "choose one of " + ", ".join(str(c) for c in self.choices)
        if self.test is not None:
            try:
                ok = self.test(value)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                return self.rule
        if isinstance(value, float) and not math.isfinite(value):
            return "it must be a finite number"
        return None


_INHERIT = "__inherit__"


def _field(default: Any, spec: Spec | None) -> Any:
    meta = {"spec": spec} if spec is not None else {_INHERIT: True}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda d=default: copy.deepcopy(d), metadata=meta)
    return field(default=default, metadata=meta)


def hp(
    default: Any,
    help: str,
    *,
    choices: tuple[Any, ...] | None = None,
    test: Callable[[Any], bool] | None = None,
    rule: str = "",
) -> Any:
    """A key with any value (or one of ``choices``, or one passing ``test``, explained by
    ``rule``)."""
    return _field(default, Spec(help, test, rule, tuple(choices) if choices else None))


def override(default: Any) -> Any:
    """A new default for a key a parent declared; help and range are the parent's."""
    return _field(default, None)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def learning_rate(default: float, help: str = "learning rate") -> Any:
    """A learning rate (> 0)."""
    return hp(
        default,
        help,
        test=lambda v: _number(v) and v > 0,
        rule="a learning rate must be > 0 (e.g. 2e-4)",
    )


def loss_weight(default: float, help: str) -> Any:
    """A loss weight (>= 0; 0 switches the term off)."""
    return hp(
        default,
        help,
        test=lambda v: _number(v) and v >= 0,
        rule="a weight must be >= 0 (0 switches it off)",
    )


def positive(default: float, help: str) -> Any:
    """A number > 0."""
    return hp(default, help, test=lambda v: _number(v) and v > 0, rule="it must be > 0")


def fraction(default: float, help: str) -> Any:
    """A probability, decay or fraction in [0, 1]."""
    return hp(
        default,
        help,
        test=lambda v: _number(v) and 0 <= v <= 1,
        rule="a probability / decay must be in [0, 1]",
    )


def size(default: int | None, help: str) -> Any:
    """A width or size: a whole number >= 1 (None where the default lets the net choose)."""
    return hp(
        default,
        help,
        test=lambda v: v is None or (_whole(v) and v >= 1),
        rule="a width or size must be a whole number >= 1",
    )


def whole(default: int, help: str, minimum: int = 1) -> Any:
    """A whole number >= ``minimum``."""
    return hp(
        default,
        help,
        test=lambda v: _whole(v) and v >= minimum,
        rule=f"it must be a whole number >= {minimum}",
    )


def adam_betas(default: tuple[float, float], help: str = "Adam's (beta1, beta2)") -> Any:
    """Adam's betas: two numbers in [0, 1)."""
    return hp(
        default,
        help,
        test=lambda v: len(v) == 2 and all(_number(b) and 0 <= b < 1 for b in v),
        rule="Adam's betas must be two numbers in [0, 1)",
    )


def amount(default: float, help: str) -> Any:
    """A number >= 0 (a length in images, 0 meaning another key decides)."""
    return hp(default, help, test=lambda v: _number(v) and v >= 0, rule="it must be >= 0")


def parse_per_resolution(text: str, kind: type = float) -> dict[int, Any]:
    """'512=0.0015,1024=0.002' -> {512: 0.0015, 1024: 0.002} (values of ``kind``); ValueError
    unless every item is resolution=value with value > 0."""
    out: dict[int, Any] = {}
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        res, value = item.split("=")
        out[int(res)] = kind(value)
        if not out[int(res)] > 0:
            raise ValueError(f"{value} <= 0")
    return out


def per_resolution(help: str, kind: type = float, example: str = "512=0.0015,1024=0.002") -> Any:
    """A value per resolution written 'resolution=value,...' ('' for none), values of
    ``kind`` > 0 (read with ``parse_per_resolution``)."""
    what = "a whole number" if kind is int else "a number"
    return hp(
        "",
        help,
        test=lambda v: parse_per_resolution(v, kind) is not None,
        rule=f"write resolution=value pairs, each value {what} > 0, e.g. '{example}'",
    )


def switch(default: bool, help: str) -> Any:
    """A switch: true or false."""
    return hp(default, help, test=lambda v: isinstance(v, bool), rule="use true or false")


@dataclass
class Hparams:
    """Base of every recipe's hyper-parameters (the config's ``model.*`` section)."""

    recipe: ClassVar[str] = ""

    @classmethod
    def specs(cls) -> dict[str, Spec]:
        """Each key's declaration; a key redeclared with ``override`` keeps its parent's."""
        out: dict[str, Spec] = {}
        for klass in reversed(cls.__mro__):
            for f in dataclasses.fields(klass) if dataclasses.is_dataclass(klass) else ():
                if "spec" in f.metadata:  # an override() keeps the spec found so far
                    out[f.name] = f.metadata["spec"]
        return {f.name: out.get(f.name, Spec()) for f in fields(cls)}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every key's default (a fresh copy of mutable ones)."""
        out = {}
        for f in fields(cls):
            out[f.name] = f.default_factory() if f.default is MISSING else copy.deepcopy(f.default)
        return out

    @classmethod
    def from_config(cls, recipe: str, given: dict[str, Any]) -> Hparams:
        """The hyper-parameters of ``given`` (model.* options) over the defaults, validated."""
        known = cls.defaults()
        unknown = [k for k in given if k not in known]
        if unknown:
            k = unknown[0]
            if k in REMOVED_HPARAMS:
                raise ConfigError(f"model.{k} is no longer a hyper-parameter: {REMOVED_HPARAMS[k]}")
            raise ConfigError(
                f"recipe {recipe!r} has no hyper-parameter {k!r}.{suggest(k, known)} "
                f"Known: {', '.join(sorted(known))}"
            )
        out = cls(**{**known, **copy.deepcopy(given)})
        out.validate(recipe)
        return out

    def validate(self, recipe: str) -> None:
        """Refuse, in one line, a value its key does not allow, then the cross-key rules."""
        for name, spec in self.specs().items():
            value = getattr(self, name)
            problem = spec.problem(value)
            if problem:
                raise ConfigError(
                    f"model.{name}={value!r} is out of range for recipe {recipe!r}: {problem}"
                )
        problem = self.check()
        if problem:
            raise ConfigError(f"recipe {recipe!r}: {problem}")

    def check(self) -> str | None:
        """A rule over several keys, broken: the problem and its fix in one line (None: fine)."""
        return None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def with_defaults(base: type[Hparams], name: str, changed: dict[str, Any]) -> type[Hparams]:
    """A subclass of ``base`` whose ``changed`` keys have new defaults (``register``'s variants)."""
    known = base.defaults()
    unknown = [k for k in changed if k not in known]
    if unknown:
        raise ValueError(f"{name}: {unknown} are not hyper-parameters of {base.__qualname__}")
    types = {f.name: f.type for f in fields(base)}
    return dataclasses.make_dataclass(
        base.__name__,
        [(k, types[k], override(v)) for k, v in changed.items()],
        bases=(base,),
        namespace={"__qualname__": f"{name}.{base.__name__}", "__module__": base.__module__},
    )
