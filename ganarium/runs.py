"""Starting, resuming, loading and evaluating runs: the glue between config, data, recipes, the
Trainer and the metrics. (Above the metrics and the checks in the layering: nothing below
imports this module.)"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch.utils.data import Dataset

from ganarium.checkpoint import atomic_write_text, load_checkpoint
from ganarium.compat import upgrade_model_config
from ganarium.config import build_config, merge, parse_overrides, to_dict
from ganarium.data import (
    DataInfo,
    dataset_info,
    dataset_spec,
    in_memory,
    load_dataset,
    quantize_images,
)
from ganarium.errors import CheckpointError, ConfigError, DataError
from ganarium.models import RECIPES, Recipe, generate_batched
from ganarium.nets.own import GivenNets, check_consent, consent, spec_of
from ganarium.rundir import RunDir
from ganarium.training.strategy import env_rank
from ganarium.training.trainer import (
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


def code_source(cfg: DictConfig) -> str:
    run_dir = OmegaConf.select(cfg, "run.dir", default=None)
    return f"run {run_dir}" if run_dir else f"this {cfg.recipe} config"


def check_code_trust(
    cfg: DictConfig, trust_code: bool = False, nets: GivenNets | None = None
) -> None:
    """Refuse, before any work, a config that names code to import without consent."""
    check_consent(to_dict(cfg.model), trust_code, nets, code_source(cfg))


def build_recipe(
    cfg: DictConfig,
    info: DataInfo,
    trust_code: bool = False,
    nets: GivenNets | None = None,
) -> Recipe:
    """The config's recipe for ``info``. Code the config names (``model.net=pkg.module:make``)
    is imported only with ``trust_code`` (a first ``train`` is that consent); ``nets`` are own
    nets handed over from Python (``ganarium.nets.own``)."""
    cls = RECIPES.get(cfg.recipe)
    model = to_dict(cfg.model)
    for k, v in cls.defaults.items():  # tuples in defaults come back from YAML as lists
        if isinstance(v, tuple) and isinstance(model.get(k), list):
            model[k] = tuple(model[k])
    with consent(cfg.recipe, model, trust_code, nets, code_source(cfg)):
        return cls(info, **model)


def train_config(cfg: DictConfig) -> TrainConfig:
    return TrainConfig(**to_dict(cfg.train))


def held_out_data(cfg: DictConfig) -> Dataset | None:
    """The dataset's test split with the run's data options, or None when it has none."""
    if not dataset_spec(cfg.data.name).held_out:
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
    trust_code: bool = False,
    nets: GivenNets | None = None,
) -> Trainer:
    """Data, recipe and Trainer for a resolved config. Translators preview held-out pairs."""
    check_code_trust(cfg, trust_code, nets)
    dataset = load_dataset(cfg.data.name, **data_options(cfg))
    if in_memory(dataset) is None:
        dataset[0]  # a file-backed dataset's first item: a broken one fails before any write
    torch.manual_seed(int(cfg.train.seed))  # initial weights are part of the seeded run
    recipe = build_recipe(cfg, dataset_info(dataset), trust_code, nets)
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
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"run directory {path}: {parent} is a file, not a folder")
    run = RunDir(path)
    if run.config.exists():
        raise ConfigError(
            f"run directory {path} already holds a run: resume it with "
            f"`ganarium train --resume {path}` or choose another --run-dir"
        )
    leftovers = lambda p: p.name.startswith(".config.") and p.name.endswith(".tmp")  # noqa: E731
    if path.exists() and (
        not path.is_dir() or any(not leftovers(p) for p in path.iterdir())
    ):  # a start killed while claiming the folder leaves only its temporary config
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
    nets: GivenNets | None = None,
    preset: str | None = None,
) -> Trainer:
    """Resolve the config, create the run directory and return a Trainer ready to ``fit()``.
    ``preset``: a paper's configuration (``ganarium.presets``) under the config file and the
    overrides.
    ``nets``: own nets from Python, ``{"G": ..., "D": ...}`` or a factory (``ganarium.nets.own``);
    a config naming ``model.net=pkg.module:make`` is imported (starting a run is the consent)."""
    if nets is not None:
        overrides = [*(overrides or []), f"model.net={spec_of(nets)}"]
    cfg = build_config(recipe, data, overrides, config_file, preset)
    requested = run_dir or cfg.run.dir or None
    if requested and env_rank() == 0:  # under torchrun rank 0 alone claims the folder
        check_new_run_dir(Path(requested))
    train_config(cfg).validate()
    trainer = make_trainer(cfg, None, evaluators, callbacks, trust_code=True, nets=nets)
    # only once everything above validated, so bad input leaves no directory
    writer = trainer.strategy.is_writer
    run = create_run_dir(requested, cfg) if writer else None
    cfg.run.dir = trainer.strategy.broadcast_object(cfg.run.dir)  # rank 0's folder on every rank
    trainer.run = run or RunDir(cfg.run.dir)
    trainer.config_record = to_dict(cfg)
    if writer:
        trainer.run.create()
    trainer.hold_lock()
    return trainer


def read_config(run: RunDir) -> DictConfig:
    if not run.config.exists():
        raise ConfigError(f"{run.path} is not a ganarium run: it has no config.yaml")
    cfg = OmegaConf.load(run.config)
    if "model" in cfg:  # a run written by 0.1 may hold keys 0.2 removed
        cfg.model = upgrade_model_config(OmegaConf.to_container(cfg.model))
    return cfg


# train.* settings that leave the training mathematics alone, so they may change on resume
RESUME_HARMLESS = (
    "steps",
    "kimg",
    "epochs",
    "device",
    "accumulate",  # splits the same global batch (like resuming on another number of GPUs)
    "log_every",
    "sample_every",
    "checkpoint_every",
    "keep_checkpoints",
    "eval_every",
    "n_grid",
    "num_workers",
    "progress",
    "tensorboard",
)


def resume_overrides(cfg: DictConfig, overrides: list[str]) -> DictConfig:
    """``cfg`` with resume-time overrides applied. Each key is either harmless (logging,
    sampling, checkpoint and evaluation intervals, more steps, device, loader workers, progress
    bar) or would change the run (model, data, batch size, seed, learning rates, ...): any of
    the latter refuses the whole resume in one line that names the kind of every key given."""
    dotted = parse_overrides(overrides, cfg)
    keys = [item.split("=", 1)[0] for item in dotted]
    harmless = [
        k for k in keys if k.removeprefix("train.") in RESUME_HARMLESS and k.startswith("train.")
    ]
    changing = [k for k in keys if k not in harmless]
    if changing:
        kinds = ", ".join(
            f"{k} ({'harmless' if k in harmless else 'changes the run'})" for k in keys
        )
        allowed = ", ".join(f"train.{k}" for k in RESUME_HARMLESS)
        raise ConfigError(
            f"on resume {', '.join(changing)} would change the run: {kinds}. Only settings that "
            f"leave training alone may change ({allowed}); start a new run for the others"
        )
    try:
        return merge(cfg, OmegaConf.from_dotlist(dotted))
    except OmegaConfBaseException as e:
        raise ConfigError(f"bad override: {str(e).splitlines()[0]}") from None


def resume_run(
    run_dir: str,
    evaluators: list[Evaluator] | None = None,
    overrides: list[str] | None = None,
    callbacks: list[Callback] | None = None,
    trust_code: bool = False,
    nets: GivenNets | None = None,
) -> Trainer:
    """A Trainer restored from ``run_dir``'s latest checkpoint, holding the run's writer lock.
    Overrides may change harmless settings (``RESUME_HARMLESS``), such as more train.steps.
    Code the run's config names is imported only with ``trust_code``; nets it was given from
    Python are handed over again as ``nets``.

    A run stopped before its first checkpoint (killed, out of memory, preempted) starts again
    from step 0 with its stored config, which ends exactly as an uninterrupted run would;
    ``trainer.restarted`` says so."""
    run = RunDir(run_dir)
    cfg = read_config(run)
    check_code_trust(cfg, trust_code, nets)
    lock = run.acquire_lock() if env_rank() == 0 else None  # before anything is rewritten
    try:
        if overrides:
            cfg = resume_overrides(cfg, overrides)
            train_config(cfg).validate()
        trainer = make_trainer(cfg, run, evaluators, callbacks, trust_code, nets)
        trainer.lock = lock
        if run.has_checkpoint():
            trainer.resume()
        else:  # stopped before its first checkpoint: what it wrote is redone from step 0
            trainer.restarted = True
            if lock is not None:
                run.truncate_metrics(0)
        if trainer.cfg.steps < trainer.step:
            raise ConfigError(
                f"train.steps={trainer.cfg.steps} is below the checkpoint's step {trainer.step}: "
                f"pass train.steps={trainer.step} or more"
            )
        if overrides:  # only once every value was checked, so a refusal changes nothing
            if lock is not None:
                atomic_write_text(run.config, OmegaConf.to_yaml(cfg))
    except BaseException:
        if lock is not None:
            lock.release()
        raise
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
    run_dir: str | Path,
    device: str = "cpu",
    checkpoint: str | Path | None = None,
    trust_code: bool = False,
    nets: GivenNets | None = None,
) -> Recipe:
    """A trained recipe from a run directory (latest checkpoint), in eval mode, with
    ``.config`` set to the run's resolved config. Code the config names is imported only with
    ``trust_code``; nets given from Python at the start are handed over again as ``nets``."""
    run = RunDir(run_dir)
    cfg = read_config(run)
    check_code_trust(cfg, trust_code, nets)
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
    recipe = build_recipe(cfg, info_from_dict(state["info"]), trust_code, nets)
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


def _evaluate_translator(
    recipe: Recipe,
    metrics: list[str],
    n: int,
    extractor: str,
    inception_weights: str | None,
    device: str,
    fake_dir: str | None,
) -> dict[str, float]:
    """A translation run's metrics on its data's held-out split (PSNR / SSIM against targets,
    content kept, feature metrics against the target side; ``metrics.translation``)."""
    from ganarium.errors import GanariumError
    from ganarium.metrics.translation import evaluate_translation

    if fake_dir is not None:
        raise GanariumError(
            f"recipe {recipe.name!r} is a translator: it is evaluated on its data's held-out "
            "pairs, not on a folder of samples; drop the samples folder"
        )
    held_out = held_out_data(recipe.config)
    if held_out is None:
        raise DataError(
            f"data {recipe.config.data.name!r} has no held-out (test) split to translate: "
            "add one (aligned: root/test/; unpaired: testA/ and testB/)"
        )
    train = load_dataset(recipe.config.data.name, **data_options(recipe.config))
    return evaluate_translation(
        recipe, held_out, metrics, n, extractor, inception_weights, device, train=train
    )


def evaluate_run(
    run_dir: str,
    metrics: list[str],
    n: int = 10000,
    extractor: str = "auto",
    inception_weights: str | None = None,
    device: str = "cpu",
    progress: bool = True,
    fake_dir: str | None = None,
    trust_code: bool = False,
) -> dict[str, float]:
    """Sample ``n`` images from a run's latest checkpoint (seeded, quantized to 8 bits as image
    files hold them) or read them from ``fake_dir`` (e.g. written by ``ganarium sample --out
    DIR/``), compute ``metrics`` against a held-out real reference of the run's data, with the
    real-data floor beside each (``floor/KEY``: real training data scored the same way), write
    ``eval.json`` into the run (atomically) and return it."""
    from ganarium.metrics.evaluate import (
        FLOOR_PREFIX,
        check_metrics,
        evaluate_samples,
        read_folder,
        real_floor,
        results_json,
    )

    check_metrics(metrics)
    recipe = load_recipe(run_dir, device=device, trust_code=trust_code)
    if recipe.capabilities().translate:  # translators: their held-out pairs, not noise samples
        res = _evaluate_translator(
            recipe, metrics, n, extractor, inception_weights, device, fake_dir
        )
        res["step"] = float(recipe.trained_steps)
        atomic_write_text(Path(run_dir) / "eval.json", results_json(res))
        return res
    check_metrics(metrics, recipe.info)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        if fake_dir is not None:
            fake = read_folder(fake_dir, recipe.info)[:n]
        else:
            fake = generate_batched(recipe, n, progress=progress)
            if recipe.info.kind == "image":
                fake = quantize_images(fake)
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
    floor = real_floor(
        recipe.info,
        metrics,
        len(fake),
        extractor,
        data_options(recipe.config),
        inception_weights,
        device,
    )
    res.update({FLOOR_PREFIX + k: v for k, v in floor.items() if k in res})
    res["step"] = float(recipe.trained_steps)
    atomic_write_text(Path(run_dir) / "eval.json", results_json(res))
    return res
