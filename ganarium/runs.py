"""Starting, resuming, loading and evaluating runs: the glue between config, data, recipes, the
Trainer and the metrics. (Above the metrics and the checks in the layering: nothing below
imports this module.)"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import Dataset

from ganarium.checkpoint import atomic_write_text, load_checkpoint
from ganarium.config import build_config, to_dict
from ganarium.data import DATASETS, DataInfo, dataset_info, load_dataset
from ganarium.errors import CheckpointError, ConfigError, DataError
from ganarium.models import RECIPES, Recipe, generate_batched
from ganarium.rundir import RunDir
from ganarium.train import (
    Callback,
    Evaluator,
    TrainConfig,
    Trainer,
    load_recipe_weights,
    resolve_device,
)


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


def held_out_data(cfg: DictConfig) -> Dataset | None:
    """The dataset's test split with the run's data options, or None when it has none."""
    if "split" not in inspect.signature(DATASETS.get(cfg.data.name)).parameters:
        return None
    try:
        return load_dataset(cfg.data.name, **{**data_options(cfg), "split": "test"})
    except DataError:
        return None


def make_trainer(
    cfg: DictConfig,
    run: RunDir | None,
    evaluators: list[Evaluator] | None = None,
    callbacks: list[Callback] | None = None,
) -> Trainer:
    """Data, recipe and Trainer for a resolved config. Translators preview held-out pairs."""
    dataset = load_dataset(cfg.data.name, **data_options(cfg))
    torch.manual_seed(int(cfg.train.seed))  # initial weights are part of the seeded run
    recipe = build_recipe(cfg, dataset_info(dataset))
    preview = held_out_data(cfg) if recipe.capabilities().translate else None
    return Trainer(
        recipe,
        dataset,
        train_config(cfg),
        run,
        evaluators,
        to_dict(cfg),
        callbacks=callbacks,
        preview_dataset=preview,
    )


def default_run_dir(cfg: DictConfig) -> Path:
    return Path("runs") / f"{cfg.recipe}-{cfg.data.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def check_new_run_dir(path: Path) -> None:
    """Refuse to start into a folder that holds a run or anything else."""
    run = RunDir(path)
    if run.config.exists():
        raise ConfigError(
            f"run directory {path} already holds a run: resume it with "
            f"`ganarium train --resume {path}` or choose another --run-dir"
        )
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConfigError(
            f"run directory {path} exists and is not empty: choose another --run-dir "
            "(or an empty folder)"
        )


def _claim(path: Path, config_text: str) -> bool:
    """Write ``path``/config.yaml only if no other process has: a hard link never replaces an
    existing file, so of two starts into one folder exactly one wins."""
    path.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".tmp", dir=path)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(config_text)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path / "config.yaml")
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def create_run_dir(requested: str | Path | None, cfg: DictConfig) -> RunDir:
    """Create the run directory and write its config. A requested folder must be new or empty;
    the default name (recipe, data, time) gets a -2, -3, ... suffix when parallel starts in the
    same second would share it."""
    base = Path(requested) if requested else default_run_dir(cfg)
    for attempt in range(1, 1000):
        path = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        if requested:
            check_new_run_dir(path)
        elif path.exists():
            continue
        cfg.run.dir = str(path)
        if _claim(path, OmegaConf.to_yaml(cfg)):
            return RunDir(path)
        if requested:
            check_new_run_dir(path)  # another process claimed it first: say so
    raise ConfigError(f"no free run directory name next to {base}: pass --run-dir")


def start_run(
    recipe: str,
    data: str,
    overrides: list[str] | None = None,
    config_file: str | None = None,
    run_dir: str | None = None,
    evaluators: list[Evaluator] | None = None,
    callbacks: list[Callback] | None = None,
) -> Trainer:
    """Resolve the config, create the run directory and return a Trainer ready to ``fit()``."""
    cfg = build_config(recipe, data, overrides, config_file)
    requested = run_dir or cfg.run.dir or None
    if requested:
        check_new_run_dir(Path(requested))
    train_config(cfg).validate()
    trainer = make_trainer(cfg, None, evaluators, callbacks)
    # only once everything above validated, so bad input leaves no directory
    trainer.run = create_run_dir(requested, cfg)
    trainer.config_record = to_dict(cfg)
    trainer.run.create()
    return trainer


def read_config(run: RunDir) -> DictConfig:
    if not run.config.exists():
        raise ConfigError(f"{run.path} is not a ganarium run: it has no config.yaml")
    return OmegaConf.load(run.config)


def resume_run(
    run_dir: str,
    evaluators: list[Evaluator] | None = None,
    overrides: list[str] | None = None,
    callbacks: list[Callback] | None = None,
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
    trainer = make_trainer(cfg, run, evaluators, callbacks)
    trainer.resume()
    return trainer


def info_from_dict(d: dict[str, Any]) -> DataInfo:
    d = dict(d)
    d["shape"] = tuple(d["shape"])
    if d.get("shape_b") is not None:
        d["shape_b"] = tuple(d["shape_b"])
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
    recipe.config = cfg
    return recipe


def _exact_recall(recipe: Recipe) -> float | None:
    """Exact recall on shapes by inverting the run's generator, or None when it has no latent."""
    from ganarium.metrics.shapes import exact_recall

    z_dim = recipe.capabilities().latent_dim
    if not z_dim:
        return None
    return exact_recall(lambda z: recipe.decode(z).float().cpu(), z_dim, recipe.info.shape[-1])


def evaluate_run(
    run_dir: str,
    metrics: list[str],
    n: int = 10000,
    extractor: str = "auto",
    inception_weights: str | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, float]:
    """Sample ``n`` images from a run's latest checkpoint, compute ``metrics`` against a held-out
    real reference of the run's data, write ``eval.json`` into the run (atomically), return it."""
    from ganarium.metrics.evaluate import check_metrics, evaluate_samples

    check_metrics(metrics)
    recipe = load_recipe(run_dir, device=device)
    check_metrics(metrics, recipe.info)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        fake = generate_batched(recipe, n, progress=progress)
        res = evaluate_samples(
            fake,
            recipe.info,
            metrics,
            extractor,
            None,
            inception_weights,
            progress,
            data_options=data_options(recipe.config),
            device=device,
        )
        if "exact" in metrics:
            recall = _exact_recall(recipe)
            if recall is None:
                warnings.warn(
                    "exact recall needs a generator with a latent to invert; only precision given",
                    stacklevel=2,
                )
            else:
                res["exact_recall"] = recall
    res["step"] = float(recipe.trained_steps)
    atomic_write_text(Path(run_dir) / "eval.json", json.dumps(res, indent=1))
    return res
