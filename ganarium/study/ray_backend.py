"""The Ray backend: each trial is a Ray Tune trial with its own CPU / GPU resources (fractional
GPUs allowed), on a local Ray started for the study or on an existing cluster (``auto`` or a
head's address; the study directory must then be on storage every node sees, and ganarium
installed on every node).

A trial reports to Tune through a ``ganarium.training.trainer.Callback`` (its logged losses and metrics
during training, and its outcome at the end); the Trainer knows nothing of Ray. Tune's own
records go to ``STUDY/ray/``; the study's outcomes and resume logic are ganarium's, so a rerun
submits only the trials without an outcome, and each resumes from its run's checkpoint.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganarium.errors import GanariumError
from ganarium.study.asha import Rungs
from ganarium.study.layout import StudyDir
from ganarium.study.trial import crashed_row, run_trial
from ganarium.study.trials import Trial
from ganarium.training.trainer import Callback, Trainer

OnDone = Callable[[Trial, dict[str, Any]], None]
NAMESPACE = "ganarium-study"
STATUS_CODES = {"finished": 0, "stopped": 1, "failed": 2, "busy": 3}  # Tune results hold numbers


class RayUnavailable(GanariumError):
    """Ray is not installed, or the cluster asked for cannot be reached."""


def _numbers(record: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in record.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


class TuneReport(Callback):
    """Reports each logged record and each evaluation to Ray Tune."""

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        from ray import tune

        tune.report(_numbers(record))

    def on_evaluate(self, trainer: Trainer, results: dict[str, float]) -> None:
        from ray import tune

        tune.report({"step": float(trainer.step), **_numbers(results)})


def _trainable(config: dict[str, Any]) -> None:
    """One Tune trial: a ganarium trial, reporting to Tune, asking the ASHA actor when on."""
    import ray
    from ray import tune

    trial = Trial.from_dict(config["trial"])
    decide = None
    if config.get("asha_actor"):
        rungs = ray.get_actor(config["asha_actor"], namespace=NAMESPACE)
        decide = lambda t, s, v: ray.get(rungs.decide.remote(t, s, v))  # noqa: E731
    row = run_trial(trial, config["study_dir"], callbacks=[TuneReport()], decide=decide)
    tune.report({**_numbers(row), "done_status": STATUS_CODES.get(row["status"], 2)})


def check_address(address: str) -> None:
    """Fail fast, in one line, when a head's address does not answer."""
    if address in ("auto", "local") or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or address, int(port or 6379)), timeout=5):
            pass
    except (OSError, ValueError) as e:
        raise RayUnavailable(
            f"--address {address}: no Ray head answers there ({e}): start one with "
            "`ray start --head`, pass --address auto, or leave --address out for a local Ray"
        ) from None


def start_ray(address: str | None, cpus: int, gpus: int | None) -> bool:
    """Connect to ``address`` or start a local Ray with ``cpus``; True when this call started
    (and so must shut down) Ray."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            "the ray backend needs Ray: pip install 'ganarium[study]' (or use --backend local)"
        ) from None
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no tables; the study prints
    try:
        if address:
            check_address(address)
            ray.init(address=address, namespace=NAMESPACE, logging_level="warning")
        else:
            ray.init(
                num_cpus=cpus,
                num_gpus=gpus,
                namespace=NAMESPACE,
                include_dashboard=False,
                logging_level="warning",
                object_store_memory=256 * 1024**2,
            )
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        first = " ".join(str(e).split())[:200]
        raise RayUnavailable(
            f"could not start or reach {where} ({first}): use --backend local"
        ) from None
    return True


class _Recorder:
    """A Tune callback (driver side) that hands each finished trial's outcome to ``on_done``,
    and records a trial whose actor died without one."""

    def __init__(self, study: StudyDir, by_id: dict[str, Trial], on_done: OnDone) -> None:
        self.study, self.by_id, self.on_done = study, by_id, on_done

    def complete(self, tune_trial: Any, error: str | None) -> None:
        trial = self.by_id[tune_trial.config["trial"]["id"]]
        row = self.study.read_outcome(trial.id)
        last = tune_trial.last_result or {}
        if last.get("done_status") == STATUS_CODES["busy"]:
            row = {"trial": trial.id, "status": "busy", "error": "another process writes it"}
        elif row is None:
            row = crashed_row(trial, error or "Ray ended the trial")
            self.study.write_outcome(trial.id, row)
            self.study.event(trial.id, "failed", error=row["error"])
        self.on_done(trial, row)


def run_ray(
    trials: list[Trial],
    study_dir: Path,
    on_done: OnDone,
    asha: dict[str, Any] | None = None,
    outcomes: list[dict[str, Any]] | None = None,
) -> None:
    """Run ``trials`` as one Tune experiment (``STUDY/ray/session-<time>``) on the Ray that
    ``start_ray`` started or joined."""
    import ray
    from ray import tune

    study = StudyDir(study_dir)
    recorder = _Recorder(study, {t.id: t for t in trials}, on_done)

    class Done(tune.Callback):
        def on_trial_complete(self, iteration, trials, trial, **info):
            recorder.complete(trial, None)

        def on_trial_error(self, iteration, trials, trial, **info):
            error = None
            if trial.error_file and Path(trial.error_file).exists():
                lines = [ln for ln in Path(trial.error_file).read_text().splitlines() if ln.strip()]
                error = lines[-1][:300] if lines else None
            recorder.complete(trial, error)

    actor_name = None
    if asha:
        actor_name = f"asha-{study_dir.resolve().name}-{os.getpid()}-{int(time.time())}"
        rungs = (
            ray.remote(Rungs)
            .options(name=actor_name, num_cpus=0)
            .remote(asha["grace"], asha["eta"])
        )
        ray.get(rungs.load.remote(outcomes or []))
    resources = trials[0].resources
    trainable = tune.with_resources(
        _trainable, {"cpu": resources.get("cpu", 1), "gpu": resources.get("gpu", 0)}
    )
    for t in trials:
        study.event(t.id, "submitted", backend="ray")
    tuner = tune.Tuner(
        trainable,
        param_space={
            "trial": tune.grid_search([t.to_dict() for t in trials]),
            "study_dir": str(study_dir.resolve()),
            "asha_actor": actor_name,
        },
        tune_config=tune.TuneConfig(
            num_samples=1,
            reuse_actors=True,  # a worker imports torch and loads data once, not per trial
            trial_name_creator=lambda t: t.config["trial"]["id"],
            trial_dirname_creator=lambda t: t.config["trial"]["id"],
        ),
        run_config=tune.RunConfig(
            name=f"session-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str(study.ray.resolve()),
            verbose=0,
            callbacks=[Done()],
            failure_config=tune.FailureConfig(max_failures=0),
        ),
    )
    tuner.fit()
