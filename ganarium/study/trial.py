"""One trial: an ordinary ganarium run in ``STUDY/trials/<id>/``, started or resumed from its
latest checkpoint, trained through ``Trainer.fit`` with callbacks (metrics during training, ASHA,
a scheduler's reporter), evaluated with ``evaluate_run``, and summarised as one row in
``STUDY/outcomes/<id>.json``. Whatever goes wrong is caught and recorded with its one-line
error: a trial never stops the study. Runs in a worker process (a Ray actor or a pool process).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ganarium.checkpoint import atomic_write_text
from ganarium.recipe import Recipe, generate_batched
from ganarium.rundir import RunDir, RunLockedError
from ganarium.study.layout import StudyDir
from ganarium.study.trials import Trial
from ganarium.training.trainer import Callback, Trainer

Decide = Callable[[str, int, float], bool]  # (trial id, step, value) -> stop?


def one_line(e: BaseException, limit: int = 300) -> str:
    """'DivergenceError: training diverged at step 3: ...' on one line."""
    text = " ".join(str(e).split()) or repr(e)
    line = f"{type(e).__name__}: {text}"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def objective_key(results: dict[str, Any], objective: str) -> str | None:
    """The results key holding ``objective``: 'fid' -> 'fid[digit-classifier]' (or its
    'eval/' form during training)."""
    for k in results:
        name = k.removeprefix("eval/")
        if name == objective or name.startswith(f"{objective}["):
            return k
    return None


def add_f1(results: dict[str, float], prefix: str = "") -> None:
    """exact_f1 = 2PR / (P + R) from exact precision and recall (Lucic et al. 2018, Sec. 5)."""
    p, r = results.get(f"{prefix}exact_precision"), results.get(f"{prefix}exact_recall")
    if p is not None and r is not None:
        results[f"{prefix}exact_f1"] = 2 * p * r / (p + r) if p + r > 0 else 0.0


def during_evaluator(trial: Trial) -> Callable[[Recipe], dict[str, float]]:
    """The metrics of ``trial.during`` on ``n_during`` samples, keyed 'eval/<name>'."""

    from ganarium.config import build_config
    from ganarium.runs import data_options, held_out_data

    cfg = build_config(trial.recipe, trial.dataset, trial.overrides)
    options = data_options(cfg)

    def translations(recipe: Recipe) -> dict[str, float]:
        """A translator's metrics on its data's held-out pairs (none without a test split)."""
        from ganarium.metrics.translation import evaluate_translation

        held_out = held_out_data(cfg)
        if held_out is None:
            return {}
        return evaluate_translation(
            recipe, held_out, trial.during, trial.n_during, trial.extractor, progress=False
        )

    def evaluate(recipe: Recipe) -> dict[str, float]:
        from ganarium.metrics.evaluate import evaluate_samples
        from ganarium.metrics.shapes import exact_recall

        if recipe.capabilities().translate:  # no noise to sample: its held-out translations
            return {f"eval/{k}": float(v) for k, v in translations(recipe).items()}
        fake = generate_batched(recipe, trial.n_during)
        res = evaluate_samples(
            fake, recipe.info, trial.during, trial.extractor, progress=False, data_options=options
        )
        z_dim = recipe.capabilities().latent_dim
        if "exact" in trial.during and z_dim:
            res["exact_recall"] = exact_recall(
                lambda z: recipe.decode(z).float().cpu(), z_dim, recipe.info.shape[-1]
            )
        add_f1(res)
        return {f"eval/{k}": float(v) for k, v in res.items() if not k.startswith("n_")}

    return evaluate


class TrialWatch(Callback):
    """Keeps the best objective seen during training, asks ASHA at each evaluation, and writes
    the time spent so far at each checkpoint (so a resumed trial's wall time adds up)."""

    def __init__(self, trial: Trial, study: StudyDir, prior_s: float, decide: Decide | None):
        self.trial, self.study, self.decide = trial, study, decide
        self.prior_s, self.t0 = prior_s, time.perf_counter()
        self.best: float | None = None
        self.asha_rungs: dict[str, float] = {}

    def elapsed(self) -> float:
        return self.prior_s + time.perf_counter() - self.t0

    def on_evaluate(self, trainer: Trainer, results: dict[str, float]) -> None:
        key = objective_key(results, self.trial.objective)
        if key is None or not math.isfinite(results[key]):
            return
        value = float(results[key])
        self.best = value if self.best is None else min(self.best, value)
        steps = trainer.cfg.steps  # at the last step there is nothing left to save
        if self.decide is not None and self.trial.asha.get("grace", 1) <= trainer.step < steps:
            self.asha_rungs[str(trainer.step)] = value
            if self.decide(self.trial.id, trainer.step, value):
                trainer.request_stop("asha")

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        state = {"step": trainer.step, "wall_s": self.elapsed(), "best": self.best}
        atomic_write_text(self.study.progress(self.trial.id), json.dumps(state))


def base_row(trial: Trial) -> dict[str, Any]:
    """A trial's row before anything is known: what it is, and 'failed' until it is not."""
    return {
        "trial": trial.id,
        "recipe": trial.recipe,
        "dataset": trial.dataset,
        "sample": trial.sample,
        "restart": trial.restart,
        "seed": trial.seed,
        **{f"hp.{k}": v for k, v in trial.params.items()},
        "planned_steps": trial.steps,
        "steps": 0,
        "status": "failed",
        "error": "",
        "run_dir": str(Path("trials") / trial.id),
        "pid": os.getpid(),
    }


def crashed_row(trial: Trial, how: str) -> dict[str, Any]:
    """The row the driver records for a trial whose process died without recording one."""
    return {
        **base_row(trial),
        "pid": None,
        "error": f"WorkerDied: the trial's process ended without a result ({how})",
    }


def run_trial(
    trial: Trial,
    study_dir: str | Path,
    callbacks: Iterable[Callback] = (),
    decide: Decide | None = None,
) -> dict[str, Any]:
    """Train, evaluate and record ``trial``; returns its outcome row (also written to disk)."""
    import torch

    study = StudyDir(study_dir)
    run = RunDir(study.run(trial.id))
    torch.set_num_threads(max(1, int(trial.resources.get("cpu", 1))))
    device = "cuda" if trial.resources.get("gpu", 0) > 0 and torch.cuda.is_available() else "cpu"
    row = base_row(trial)
    prior = study.read_progress(trial.id) if run.has_checkpoint() else {}
    watch = TrialWatch(trial, study, float(prior.get("wall_s", 0.0)), decide)
    watch.best = prior.get("best")
    trainer = None
    try:
        from ganarium.runs import evaluate_run, resume_run, start_run

        evaluators = [during_evaluator(trial)] if trial.during else []
        cbs = [watch, *callbacks]
        if run.has_checkpoint():
            trainer = resume_run(str(run.path), evaluators, callbacks=cbs)
            study.event(trial.id, "resume", step=trainer.step)
        else:
            if run.path.exists():  # killed before its first checkpoint: start it again
                shutil.rmtree(run.path)
            overrides = [*trial.overrides, f"train.device={json.dumps(device)}"]
            trainer = start_run(
                trial.recipe,
                trial.dataset,
                overrides,
                run_dir=str(run.path),
                evaluators=evaluators,
                callbacks=cbs,
            )
            study.event(trial.id, "start")
        if trainer.step < trainer.cfg.steps:
            trainer.fit()
        trainer.release_lock()  # fit releases it; a trial resumed at its last step did not fit
        row["steps"] = trainer.step
        row["train_s"] = watch.elapsed()
        t_eval = time.perf_counter()
        results = evaluate_run(
            str(run.path),
            trial.metrics,
            trial.n_eval,
            trial.extractor,
            device=device,
            progress=False,
        )
        add_f1(results)
        row["eval_s"] = time.perf_counter() - t_eval
        row.update({k: float(v) for k, v in results.items() if k != "step"})
        key = objective_key(results, trial.objective)
        row["objective_name"] = key or trial.objective
        row["objective"] = float(results[key]) if key else math.nan
        # the paper keeps the best checkpoint: the best of the evaluations and the end
        seen = [x for x in (row["objective"], watch.best) if x is not None and math.isfinite(x)]
        row["best_objective"] = min(seen) if seen else math.nan
        early = trainer.stop_reason == "asha" and trainer.step < trainer.cfg.steps
        row["status"] = "stopped" if early else "finished"
    except RunLockedError as e:  # another process writes this trial: not a result, leave it
        if trainer is not None:
            trainer.release_lock()
        study.event(trial.id, "busy", error=one_line(e))
        return {**row, "status": "busy", "error": one_line(e)}
    except Exception as e:  # noqa: BLE001 - every failure is recorded, none stops the study
        row["error"] = one_line(e)
        if trainer is not None:
            trainer.release_lock()
            row["steps"] = trainer.step
        row["train_s"] = watch.elapsed()
    row["wall_s"] = watch.elapsed()
    row["asha_rungs"] = json.dumps(watch.asha_rungs) if watch.asha_rungs else ""
    study.write_outcome(trial.id, row)
    study.event(trial.id, row["status"], step=row["steps"], error=row["error"])
    return row
