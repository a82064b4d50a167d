"""Search spaces: named hyper-parameters, each a distribution and the config keys it sets.

    lr:     {log_uniform: [1.0e-5, 1.0e-2], keys: [model.lr_g, model.lr_d, model.lr]}
    beta1:  {uniform: [0, 1], keys: model.betas[0]}
    n_disc: {choice: [1, 5], keys: model.n_critic}

One sampled value goes to every listed key the trial's recipe has (a recipe that has none of them
ignores the parameter, and its table cell stays empty). ``section.name[i]`` sets one element of a
list-valued key (Adam's beta1 inside ``model.betas``). Sampling is seeded per trial, so the same
spec always yields the same trials.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganarium.errors import ConfigError, suggest

KINDS = ("log_uniform", "uniform", "choice")
KEY = re.compile(r"^(model|train|data)\.([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


@dataclass(frozen=True)
class Distribution:
    """``kind`` over ``args`` ((low, high) or the choices), written to ``keys``."""

    kind: str
    args: tuple[Any, ...]
    keys: tuple[str, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        if self.kind == "log_uniform":
            low, high = self.args
            return float(10 ** rng.uniform(math.log10(low), math.log10(high)))
        if self.kind == "uniform":
            return float(rng.uniform(*self.args))
        choice = self.args[int(rng.integers(len(self.args)))]
        return choice.item() if isinstance(choice, np.generic) else choice

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: list(self.args), "keys": list(self.keys)}


def parse_key(key: str, where: str) -> tuple[str, str, int | None]:
    """'model.betas[0]' -> ('model', 'betas', 0); anything else is refused in one line."""
    m = KEY.match(str(key))
    if not m:
        raise ConfigError(
            f"{where}: key {key!r} is not SECTION.NAME or SECTION.NAME[INDEX] with SECTION one "
            "of model, train, data (e.g. model.lr_g, model.betas[0])"
        )
    return m.group(1), m.group(2), None if m.group(3) is None else int(m.group(3))


def parse_distribution(name: str, entry: Any, where: str) -> Distribution:
    """One search-space entry from the spec's mapping form."""
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{where}.{name} must be a mapping such as {{log_uniform: [1.0e-5, 1.0e-2], keys: "
            f"model.lr_g}}, not {entry!r}"
        )
    kinds = [k for k in entry if k != "keys"]
    if len(kinds) != 1 or kinds[0] not in KINDS:
        bad = next((k for k in kinds if k not in KINDS), None)
        hint = suggest(bad, KINDS) if bad else ""
        raise ConfigError(
            f"{where}.{name}: give exactly one distribution of {', '.join(KINDS)} "
            f"(got {', '.join(map(str, kinds)) or 'none'}).{hint}"
        )
    kind, args = kinds[0], entry[kinds[0]]
    keys = entry.get("keys", f"model.{name}")
    keys = tuple([keys] if isinstance(keys, str) else keys)
    if not keys:
        raise ConfigError(f"{where}.{name}: keys is empty: name the config keys it sets")
    for k in keys:
        parse_key(k, f"{where}.{name}")
    if not isinstance(args, (list, tuple)) or not args:
        raise ConfigError(f"{where}.{name}: {kind} needs a list, e.g. {kind}: [0.1, 1.0]")
    if kind == "choice":
        return Distribution(kind, tuple(args), keys)
    if len(args) != 2 or not all(_is_number(a) for a in args):
        raise ConfigError(f"{where}.{name}: {kind} takes [low, high] numbers, not {args!r}")
    low, high = float(args[0]), float(args[1])
    if not low <= high:
        raise ConfigError(f"{where}.{name}: {kind} low {low} is above high {high}")
    if kind == "log_uniform" and low <= 0:
        raise ConfigError(f"{where}.{name}: log_uniform needs low > 0, got {low}")
    return Distribution(kind, (low, high), keys)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def trial_rng(*parts: Any) -> np.random.Generator:
    """A generator seeded by a stable hash of ``parts`` (Python's hash() is salted per process)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def stable_seed(*parts: Any) -> int:
    """A training seed in [0, 2**31) from ``parts``."""
    return int(trial_rng(*parts).integers(2**31))


def sample_space(space: dict[str, Distribution], rng: np.random.Generator) -> dict[str, Any]:
    """One value per parameter, drawn in name order (so adding a parameter to a recipe's own
    space leaves the others' draws for other recipes unchanged)."""
    return {name: space[name].sample(rng) for name in sorted(space)}


def set_key(config: dict[str, Any], key: str, value: Any) -> None:
    """Write ``value`` at ``key`` ('model.betas[0]') into a nested config dict in place."""
    section, name, index = parse_key(key, "key")
    if index is None:
        config[section][name] = value
        return
    current = list(config[section][name])
    if index >= len(current):
        raise ConfigError(f"{key}: {section}.{name} has only {len(current)} elements")
    current[index] = value
    config[section][name] = current


def get_key(config: dict[str, Any], key: str) -> Any:
    section, name, index = parse_key(key, "key")
    value = config[section][name]
    return value if index is None else list(value)[index]


def has_key(config: dict[str, Any], key: str) -> bool:
    section, name, index = parse_key(key, "key")
    if name not in config.get(section, {}):
        return False
    if index is None:
        return True
    value = config[section][name]
    return isinstance(value, (list, tuple)) and index < len(value)
