"""Starting, resuming and loading runs: the glue between config, data, recipes and the Trainer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from ganarium.checkpoint import atomic_write_text, load_checkpoint
from ganarium.config import build_config, to_dict
from ganarium.data import DataInfo, dataset_info, load_dataset
from ganarium.errors import CheckpointError, ConfigError
from ganarium.models import RECIPES, Recipe
from ganarium.rundir import RunDir
from ganarium.train import Evaluator, TrainConfig, Trainer, load_recipe_weights, resolve_device


def data_options(cfg: DictConfig) -> dict[str, Any]:
    opts = to_dict(cfg.data)
    opts.pop("name")
    return opts


def build_recipe(cfg: DictConfig, info: DataInfo) -> Recipe:
    cls = RECIPES.get(cfg.recipe)
    model = to_dict(cfg.model)
    for k, v in cls.defaults.items():  # tuples in defaults come back from YAML as lists
        if isinstance(v, tuple) and isinstance(model.get(k), list):
            model[k] = tuple(model[k])
    return cls(info, **model)


def train_config(cfg: DictConfig) -> TrainConfig:
    return TrainConfig(**to_dict(cfg.train))


def default_run_dir(cfg: DictConfig) -> Path:
    return Path("runs") / f"{cfg.recipe}-{cfg.data.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def start_run(
    recipe: str,
    data: str,
    overrides: list[str] | None = None,
    config_file: str | None = None,
    run_dir: str | None = None,
    evaluators: list[Evaluator] | None = None,
) -> Trainer:
    """Resolve the config, create the run directory and return a Trainer ready to ``fit()``."""
    cfg = build_config(recipe, data, overrides, config_file)
    run = RunDir(run_dir or cfg.run.dir or default_run_dir(cfg))
    if run.has_checkpoint():
        raise ConfigError(
            f"run directory {run.path} already holds a run: resume it with "
            f"`ganarium train --resume {run.path}` or choose another --run-dir"
        )
    cfg.run.dir = str(run.path)
    tcfg = train_config(cfg)
    tcfg.validate()
    dataset = load_dataset(cfg.data.name, **data_options(cfg))
    torch.manual_seed(tcfg.seed)  # initial weights are part of the seeded run
    recipe_obj = build_recipe(cfg, dataset_info(dataset))
    trainer = Trainer(recipe_obj, dataset, tcfg, run, evaluators, to_dict(cfg))
    run.create()  # only once everything above validated, so bad input leaves no directory
    atomic_write_text(run.config, OmegaConf.to_yaml(cfg))
    return trainer


def read_config(run: RunDir) -> DictConfig:
    if not run.config.exists():
        raise ConfigError(f"{run.path} is not a ganarium run: it has no config.yaml")
    return OmegaConf.load(run.config)


def resume_run(
    run_dir: str, evaluators: list[Evaluator] | None = None, overrides: list[str] | None = None
) -> Trainer:
    """A Trainer restored from ``run_dir``'s latest checkpoint. Overrides may extend train.steps."""
    run = RunDir(run_dir)
    cfg = read_config(run)
    if overrides:
        bad = [o for o in overrides if o.split("=", 1)[0].removeprefix("train.") not in ("steps",)]
        if bad:
            raise ConfigError(f"on resume only train.steps can change, not {bad[0]!r}")
        cfg = OmegaConf.merge(
            cfg,
            OmegaConf.from_dotlist(
                [o if o.startswith("train.") else f"train.{o}" for o in overrides]
            ),
        )
        atomic_write_text(run.config, OmegaConf.to_yaml(cfg))
    dataset = load_dataset(cfg.data.name, **data_options(cfg))
    trainer = Trainer(
        build_recipe(cfg, dataset_info(dataset)),
        dataset,
        train_config(cfg),
        run,
        evaluators,
        to_dict(cfg),
    )
    trainer.resume()
    return trainer


def info_from_dict(d: dict[str, Any]) -> DataInfo:
    d = dict(d)
    d["shape"] = tuple(d["shape"])
    if d.get("value_range") is not None:
        d["value_range"] = tuple(d["value_range"])
    return DataInfo(**d)


def load_recipe(
    run_dir: str | Path, device: str = "cpu", checkpoint: str | Path | None = None
) -> Recipe:
    """A trained recipe from a run directory (latest checkpoint), in eval mode, with
    ``.config`` set to the run's resolved config."""
    run = RunDir(run_dir)
    cfg = read_config(run)
    path = Path(checkpoint) if checkpoint else run.latest
    if not path.exists():
        raise CheckpointError(f"{run.path} has no checkpoint yet ({path.name}): train it first")
    dev = resolve_device(device)
    state = load_checkpoint(path, dev)
    if state.get("recipe") != cfg.recipe:
        raise CheckpointError(
            f"checkpoint {path} is from recipe {state.get('recipe')!r} but the run's config "
            f"says {cfg.recipe!r}"
        )
    recipe = build_recipe(cfg, info_from_dict(state["info"]))
    load_recipe_weights(recipe, state)
    recipe.to(dev).eval()
    recipe.config = cfg  # type: ignore[attr-defined]
    recipe.step = int(state["step"])  # type: ignore[attr-defined]
    return recipe


@torch.no_grad()
@torch.no_grad()
def generate_batched(
    recipe: Recipe, n: int, batch_size: int = 500, progress: bool = False, **kwargs: Any
) -> torch.Tensor:
    """``n`` samples on the CPU, ``batch_size`` per ``recipe.generate`` call; tensor keyword
    arguments (labels, z) are sliced per batch, others passed as they are."""
    out = []
    for i in tqdm(range(0, n, batch_size), desc="sampling", disable=not progress, leave=False):
        m = min(batch_size, n - i)
        kw = {k: (v[i : i + m] if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
        out.append(recipe.generate(m, **kw).float().cpu())
    return torch.cat(out)
