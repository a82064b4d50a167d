"""Run configuration: YAML plus dotted command-line overrides, via OmegaConf.

The config has four sections: ``data`` (dataset name and options), ``model`` (the recipe's
hyper-parameters), ``train`` (TrainConfig) and ``run``. Every key must already exist (the
defaults come from the recipe, the dataset factory's signature and TrainConfig), so a typo
fails at once with a suggestion, and a value must fit the default's type.

Layers, each over the one before: the defaults, a preset's ``model`` / ``train`` / ``data``
sections (``ganarium.presets``), the config file, the command-line overrides. A run started
from a preset records its name as the top-level ``preset`` key; configs without it (every run
before presets) read back unchanged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ganarium.compat import REMOVED_HPARAMS
from ganarium.data import REQUIRED, dataset_spec
from ganarium.errors import ConfigError, suggest
from ganarium.models import RECIPES
from ganarium.presets import Preset, load_preset
from ganarium.training.trainer import TrainConfig

SECTIONS = ("data", "model", "train")
TOP_LEVEL = ("recipe", "preset")  # plain values beside the sections


def data_defaults(name: str) -> dict[str, Any]:
    """The data.* options dataset ``name`` declares, with their defaults (None: required)."""
    return {k: None if v is REQUIRED else v for k, v in dataset_spec(name).options.items()}


def default_config(recipe: str, data: str) -> DictConfig:
    cls = RECIPES.get(recipe)
    cfg = {
        "recipe": recipe,
        "data": {"name": data, **data_defaults(data)},
        "model": dict(cls.defaults),
        "train": {**dataclasses.asdict(TrainConfig()), **cls.train_defaults},
        "run": {"dir": ""},
    }
    return OmegaConf.create(_plain(cfg))


def _plain(x: Any) -> Any:
    if isinstance(x, tuple):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def parse_overrides(items: list[str], cfg: DictConfig) -> list[str]:
    """Turn ``key=value`` items into fully dotted ones; bare keys resolve to the single section
    that has them (``steps=100`` -> ``train.steps=100``)."""
    out = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value (e.g. train.steps=1000)")
        key, value = item.split("=", 1)
        if key == "preset":
            raise ConfigError("a preset is chosen with --preset NAME, not as a key=value override")
        if "." not in key and key not in ("recipe",):
            owners = [s for s in SECTIONS if key in cfg[s]]
            if len(owners) > 1:
                raise ConfigError(
                    f"override {key!r} is ambiguous: write one of {', '.join(f'{s}.{key}' for s in owners)}"
                )
            if not owners:
                known = [k for s in SECTIONS for k in cfg[s]]
                raise ConfigError(f"unknown config key {key!r}.{suggest(key, known)}")
            key = f"{owners[0]}.{key}"
        out.append(f"{key}={value}")
    return out


def _check_types(defaults: Any, given: Any, path: str) -> None:
    if isinstance(defaults, DictConfig):
        for k in given:
            if k not in defaults and path == "model." and k in REMOVED_HPARAMS:
                raise ConfigError(f"model.{k} is no longer a hyper-parameter: {REMOVED_HPARAMS[k]}")
            if k not in defaults:
                raise ConfigError(
                    f"unknown config key {path}{k!r}.{suggest(str(k), list(defaults))}"
                )
            _check_types(defaults[k], given[k], f"{path}{k}.")
        return
    d, g = defaults, given
    if d is None or g is None:
        return
    if isinstance(d, bool):
        ok = isinstance(g, bool)
    elif isinstance(d, int):
        ok = isinstance(g, int) and not isinstance(g, bool)
    elif isinstance(d, float):
        ok = isinstance(g, (int, float)) and not isinstance(g, bool)
    elif isinstance(d, str):
        ok = isinstance(g, str)
    elif isinstance(d, ListConfig):
        ok = isinstance(g, ListConfig) and len(g) == len(d)
    else:
        ok = True
    if not ok:
        raise ConfigError(
            f"config value {path.rstrip('.')}={g!r} has the wrong type: expected "
            f"{'list' if isinstance(d, ListConfig) else type(d).__name__} like {OmegaConf.to_container(d) if isinstance(d, ListConfig) else d!r}"
        )


def merge(cfg: DictConfig, other: DictConfig) -> DictConfig:
    """Merge ``other`` into ``cfg`` rejecting unknown keys and values of the wrong type."""
    for section in other:
        if section in TOP_LEVEL:
            continue
        if section not in cfg:
            raise ConfigError(f"unknown config section {section!r}: use data, model, train or run")
        _check_types(cfg[section], other[section], f"{section}.")
    try:
        return OmegaConf.merge(cfg, other)
    except OmegaConfBaseException as e:
        raise ConfigError(f"bad config: {str(e).splitlines()[0]}") from None


def apply_preset(cfg: DictConfig, preset: Preset) -> DictConfig:
    """``cfg`` with the preset's ``model``, ``train`` and ``data`` sections merged over it and
    ``preset: <name>`` recorded; a key or value the run does not take fails in one line that
    names the preset's file."""
    try:
        cfg = merge(cfg, OmegaConf.create(_plain(preset.overrides())))
    except ConfigError as e:
        raise ConfigError(f"preset {preset.path}: {e}") from None
    return OmegaConf.merge({"recipe": cfg.recipe, "preset": preset.name}, cfg)


def _read_config_file(config_file: str) -> DictConfig:
    path = Path(config_file)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    try:
        return OmegaConf.load(path)
    except Exception as e:  # noqa: BLE001 - any YAML error becomes one line
        raise ConfigError(
            f"config file {path} is not valid YAML: {str(e).splitlines()[0]}"
        ) from None


def build_config(
    recipe: str,
    data: str,
    overrides: list[str] | None = None,
    config_file: str | None = None,
    preset: str | None = None,
) -> DictConfig:
    """The full resolved config for training ``recipe`` on ``data``: the defaults, then the
    preset's sections (``preset``: a name from ``ganarium.presets.preset_names(recipe)``), then
    the config file, then the overrides. A config file may name the preset itself (top-level
    ``preset: NAME``, as a run's config.yaml does); a different ``preset`` argument is refused."""
    cfg = default_config(recipe, data)
    file_cfg = _read_config_file(config_file) if config_file else None
    named = file_cfg.get("preset") if isinstance(file_cfg, DictConfig) else None
    if named is not None and preset is not None and str(named) != preset:
        raise ConfigError(
            f"config file {config_file} names preset {named!r} but the preset asked for is "
            f"{preset!r}: drop one of them"
        )
    chosen = preset if preset is not None else named
    if chosen is not None:
        cfg = apply_preset(cfg, load_preset(recipe, str(chosen)))
    if file_cfg is not None:
        if named is not None:
            file_cfg = OmegaConf.masked_copy(file_cfg, [k for k in file_cfg if k != "preset"])
        cfg = merge(cfg, file_cfg)
    if overrides:
        try:
            dot = OmegaConf.from_dotlist(parse_overrides(overrides, cfg))
        except OmegaConfBaseException as e:
            raise ConfigError(f"bad override: {str(e).splitlines()[0]}") from None
        cfg = merge(cfg, dot)
    return cfg


def to_dict(section: DictConfig) -> dict[str, Any]:
    """A config section as plain Python, lists that were tuples in defaults kept as lists."""
    return OmegaConf.to_container(section, resolve=True)  # type: ignore[return-value]
