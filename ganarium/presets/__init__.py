"""Presets: a paper's configuration of a recipe as data (a YAML file per preset, shipped with
the package under ``ganarium/presets/<recipe>/<preset>.yaml``).

A preset sets ``model.*``, ``train.*`` and ``data.*`` options (``data.size``, never the dataset
itself); the user's overrides still apply on top. Beside the settings it records where they
come from and the official networks' parameter counts, which the tests check by building the
preset's nets on the meta device (nothing allocated, no data read):

.. code-block:: yaml

    title: StyleGAN2 config F at 1024x1024
    source: stylegan2-ada-pytorch train.py, cfg_specs['stylegan2']
    info: {shape: [3, 1024, 1024], num_classes: 0}   # DataInfo fields the nets are built for
    model: {...}
    train: {...}
    data: {size: 1024}
    official:
      params: {G: 30370060, D: 29011201}   # per player: the parameters its optimizer steps
      match: exact        # exact | formula | paper (formula and paper: within 0.5%)
      source: stylegan2-ada-pytorch training/networks.py at these settings
      shapes: {G: <digest>, D: <digest>}   # optional: shape_digest() of the official nets
    reproduce: {command: ..., data: ..., expect: ..., published: ...}

``ganarium train RECIPE --preset NAME --data ...`` applies one (``config.build_config``: the
defaults, the preset, the config file, the overrides); ``ganarium info RECIPE`` lists them and
``ganarium info RECIPE --preset NAME`` counts their parameters; ``scripts/reproduce_doc.py``
writes docs/reproduce.md from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from ganarium.data import DataInfo
from ganarium.errors import ConfigError, suggest
from ganarium.models import RECIPES, Recipe
from ganarium.training.trainer import player_parameters as _optimizer_players

PRESETS_DIR = Path(__file__).parent
MATCHES = ("exact", "formula", "paper")
SECTIONS = ("model", "train", "data")  # what a preset sets in the run's config
TOLERANCE = {"exact": 0.0, "formula": 0.005, "paper": 0.005}  # relative, per player


@dataclass(frozen=True)
class Preset:
    """One preset file: the settings, what they reproduce and the official figures."""

    recipe: str
    name: str
    title: str
    source: str
    info: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    official: dict[str, Any] = field(default_factory=dict)
    reproduce: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The preset's YAML file."""
        return PRESETS_DIR / self.recipe / f"{self.name}.yaml"

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The preset's config sections, to merge under the user's overrides."""
        return {"model": dict(self.model), "train": dict(self.train), "data": dict(self.data)}

    def data_info(self) -> DataInfo:
        """The DataInfo the preset's nets are built for (the paper's data shape and classes)."""
        opts = dict(self.info)
        opts["shape"] = tuple(opts["shape"])
        if opts.get("shape_b") is not None:
            opts["shape_b"] = tuple(opts["shape_b"])
        opts.setdefault("name", f"preset:{self.recipe}/{self.name}")
        return DataInfo(**opts)


def preset_names(recipe: str) -> list[str]:
    """The presets shipped for ``recipe``, sorted."""
    folder = PRESETS_DIR / recipe
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def all_presets() -> list[tuple[str, str]]:
    """Every shipped (recipe, preset) pair."""
    return [(r, n) for r in RECIPES.names() for n in preset_names(r)]


def load_preset(recipe: str, name: str) -> Preset:
    """Read and check ``ganarium/presets/<recipe>/<name>.yaml``; one-line errors otherwise."""
    RECIPES.get(recipe)  # an unknown recipe fails with a suggestion
    names = preset_names(recipe)
    if name not in names:
        offer = f"its presets: {', '.join(names)}" if names else "it has none"
        raise ConfigError(
            f"recipe {recipe!r} has no preset {name!r} ({offer}).{suggest(name, names)}"
        )
    path = PRESETS_DIR / recipe / f"{name}.yaml"
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"preset {path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"preset {path} must be a mapping (title:, source:, info:, ...)")
    known = set(Preset.__dataclass_fields__) - {"recipe", "name"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"preset {path}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    for key in ("title", "source", "info"):
        if key not in raw:
            raise ConfigError(f"preset {path} lacks {key!r}")
    for key in ("info", *SECTIONS, "official", "reproduce"):
        if not isinstance(raw.get(key, {}), dict):
            raise ConfigError(f"preset {path}: {key!r} must be a mapping of key: value")
    if "shape" not in raw["info"]:
        raise ConfigError(f"preset {path}: info lacks 'shape' (e.g. info: {{shape: [3, 64, 64]}})")
    if "name" in raw.get("data", {}):
        raise ConfigError(
            f"preset {path}: data.name is set, but a preset never chooses the dataset (--data does)"
        )
    match = raw.get("official", {}).get("match", "exact")
    if match not in MATCHES:
        raise ConfigError(f"preset {path}: official.match={match!r}: use one of {MATCHES}")
    return Preset(recipe=recipe, name=name, **raw)


def build_preset_recipe(
    recipe: str,
    name: str,
    device: str | torch.device = "meta",
    info: DataInfo | None = None,
) -> Recipe:
    """The recipe with the preset's nets, built on ``device`` (meta: no memory, no init cost)
    for ``info`` (default: the preset's own ``info``, the paper's data shape and classes)."""
    preset = load_preset(recipe, name)
    cls = RECIPES.get(recipe)
    model = {**cls.defaults, **preset.model}
    for k, v in cls.defaults.items():  # tuples in defaults come back from YAML as lists
        if isinstance(v, tuple) and isinstance(model.get(k), list):
            model[k] = tuple(model[k])
    unknown = sorted(set(preset.model) - set(cls.defaults))
    if unknown:
        raise ConfigError(
            f"preset {preset.path}: recipe {recipe!r} has no hyper-parameter {unknown[0]!r}."
            f"{suggest(unknown[0], cls.defaults)}"
        )
    with torch.device(device):
        return cls(info if info is not None else preset.data_info(), **model)


def player_parameters(recipe: Recipe) -> dict[str, list[torch.nn.Parameter]]:
    """Each player's parameters (what its optimizer steps), EMA copies excluded, no duplicates."""
    return _optimizer_players(recipe.configure_optimizers())


def player_parameter_counts(recipe: Recipe) -> dict[str, int]:
    """Each player's parameter total: ``{"G": ..., "D": ...}``, for a recipe built on any device
    (meta, CPU, CUDA): it reads the parameters of ``configure_optimizers()``, so a net no
    optimizer steps (an EMA copy, a frozen teacher) does not count and a net shared by two
    players counts for each."""
    return {k: sum(p.numel() for p in ps) for k, ps in player_parameters(recipe).items()}


def within_official(built: int, official: int, match: str) -> bool:
    """Whether a built count meets the official one: equal for ``exact``, within 0.5% else."""
    return abs(built - official) <= TOLERANCE[match] * official


def shape_digest(params: Iterable[torch.Tensor]) -> str:
    """A short digest of the multiset of parameter shapes: sha256 of the sorted shapes, one per
    line as Python tuples (``(512, 512, 3, 3)``), first 16 hex digits. Two nets with the same
    counts but other layers differ here."""
    lines = sorted(str(tuple(int(s) for s in p.shape)) for p in params)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
