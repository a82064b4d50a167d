"""A run's files beside the log: atomic checkpoints (the step's file and ``latest.pt``, the
oldest beyond ``train.keep_checkpoints`` removed), exact resume, the writer lock (one writer
per run) and RUN/recipe.json, the recipe's nets and what it offers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganarium.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from ganarium.errors import CheckpointError
from ganarium.recipe import Recipe
from ganarium.training.optimizers import player_parameters, set_optimizer_impl

if TYPE_CHECKING:
    from ganarium.training.trainer import Trainer


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """Everything a resumed run needs to continue exactly: weights, extra state, optimizers,
    schedulers, loss scalers, the batch stream's position and the random state."""
    return {
        "recipe": trainer.recipe.name,
        "info": trainer.recipe.info.to_dict(),
        "step": trainer.step,
        "images_seen": trainer.images_seen,
        "model": trainer.recipe.state_dict(),
        "extra": trainer.recipe.extra_state(),
        "optimizers": {k: o.state_dict() for k, o in trainer.optimizers.items()},
        "schedulers": {k: sch.state_dict() for k, sch in trainer.schedulers.items()},
        "scalers": trainer.precision.state_dict(),
        "stream": trainer.stream.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "config": trainer.config_record,
    }


def load_trainer_state(trainer: Trainer, state: dict[str, Any]) -> None:
    """Restore what ``trainer_state`` saved."""
    if state.get("recipe") != trainer.recipe.name:
        raise CheckpointError(
            f"this checkpoint is from recipe {state.get('recipe')!r}, not {trainer.recipe.name!r}"
        )
    load_recipe_weights(trainer.recipe, state)
    for k, opt in trainer.optimizers.items():
        opt.load_state_dict(state["optimizers"][k])
    set_optimizer_impl(trainer.optimizers.values(), trainer.cfg.optimizer_impl)
    for k, sch in trainer.schedulers.items():
        sch.load_state_dict(state["schedulers"][k])
    trainer.precision.load_state_dict(state.get("scalers", {}))
    trainer.stream.load_state_dict(state["stream"])
    torch.set_rng_state(state["rng_cpu"])
    if state["rng_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    trainer.step = int(state["step"])
    # checkpoints before 0.2 did not store it: every fresh batch was counted then
    drawn = trainer.stream.drawn * trainer.cfg.batch_size
    trainer.images_seen = int(state.get("images_seen", drawn))


def save(trainer: Trainer) -> Path | None:
    """Write the step's checkpoint and ``latest.pt`` atomically, then remove the oldest beyond
    ``train.keep_checkpoints``; returns the step's file (None on a process that does not
    write). Every process checks for divergence and syncs its state first."""
    run = trainer.run
    if run is None:
        return None
    trainer.check_divergence()
    trainer.strategy.sync_state(trainer.recipe)
    trainer.guard.check_parameters(trainer.recipe.parameters(), trainer.step, run.latest)
    if not trainer.writes:
        return None
    state = trainer_state(trainer)
    path = run.step_checkpoint(trainer.step)
    try:
        save_checkpoint(path, state)
        save_checkpoint(run.latest, state)
    except OSError as e:  # disk full, unwritable: the temp file is gone, latest is intact
        raise CheckpointError(
            f"could not write the step {trainer.step} checkpoint ({e.strerror or e}); the last "
            f"good checkpoint {run.latest} is intact: free disk space and resume with "
            f"`ganarium train --resume {run.path}`"
        ) from None
    for old in run.step_checkpoints()[: -trainer.cfg.keep_checkpoints or None]:
        old.unlink(missing_ok=True)
    for cb in trainer.callbacks:
        cb.on_checkpoint(trainer, path)
    return path


def resume(trainer: Trainer) -> None:
    """Continue from the run's ``latest.pt``, holding its lock before anything is rewritten;
    metric lines after the checkpoint's step are dropped."""
    run = trainer.run
    if run is None or not run.has_checkpoint():
        raise CheckpointError("nothing to resume: the run has no checkpoints/latest.pt")
    hold_lock(trainer)  # before anything in the run is rewritten
    load_trainer_state(trainer, load_checkpoint(run.latest, trainer.device))
    if trainer.writes:
        run.truncate_metrics(trainer.step)


def hold_lock(trainer: Trainer) -> None:
    """Take the run's writer lock (one writer per run) unless already held."""
    if trainer.writes and trainer.lock is None:
        trainer.lock = trainer.run.acquire_lock()


def release_lock(trainer: Trainer) -> None:
    if trainer.lock is not None:
        trainer.lock.release()
        trainer.lock = None


def write_recipe_summary(trainer: Trainer) -> None:
    """RUN/recipe.json: the recipe's nets with their parameter counts and what it offers."""
    recipe = trainer.recipe
    summary = {
        "recipe": recipe.name,
        # per player (what its optimizer steps, EMA copies excluded), then per net
        "nets": {
            k: sum(p.numel() for p in ps) for k, ps in player_parameters(trainer.optimizers).items()
        },
        "modules": recipe.parameter_counts(),
        "capabilities": recipe.capabilities().to_dict(),
    }
    atomic_write_text(trainer.run.summary, json.dumps(summary, indent=1))


def load_recipe_weights(recipe: Recipe, state: dict[str, Any]) -> None:
    """Load a checkpoint's weights (and extra state) into a recipe, creating EMA copies the
    checkpoint has."""
    model = state["model"]
    if any(k.startswith("ema.") for k in model) and not recipe.ema:
        recipe.enable_ema()
    try:
        recipe.load_state_dict(model)
    except RuntimeError as e:
        raise CheckpointError(
            f"checkpoint weights do not fit recipe {recipe.name!r} as configured "
            f"({str(e).splitlines()[0][:200]}): was it trained with other hyper-parameters?"
        ) from None
    if state.get("extra"):
        recipe.load_extra_state(state["extra"])
    recipe.trained_steps = int(state.get("step", 0))
