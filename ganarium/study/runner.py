"""Running a study: resolve the spec, expand it into trials, skip those already recorded, run the
rest on a backend, keep the results table current after every trial, and write the report.

Running the same command again continues the study: trials with an outcome are not run again
(``retry_failed`` re-runs the failed ones from scratch), interrupted ones resume from their
checkpoints. A study directory holds one protocol: a rerun whose spec differs in anything but
which recipes and datasets it covers, its number of samples or seeds, or its resources is
refused, so one table never mixes two protocols.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ganarium.checkpoint import atomic_write_text
from ganarium.errors import ConfigError, GanariumError
from ganarium.study.layout import StudyDir
from ganarium.study.presets import PRESETS, preset
from ganarium.study.spec import StudySpec, load_spec, spec_from_dict
from ganarium.study.trials import Trial, expand, validate_spec

FREE = ("recipes", "datasets", "samples", "seeds", "resources", "name")


def resolve_spec(name_or_path: str) -> StudySpec:
    """A preset by name, else a YAML file (one line when it is neither)."""
    if name_or_path in PRESETS:
        return spec_from_dict(preset(name_or_path), name_or_path)
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() not in (".yaml", ".yml") and not path.exists():
        preset(name_or_path)  # raises: unknown preset, with suggestions
    return load_spec(path)


def check_same_protocol(study: StudyDir, spec: StudySpec) -> None:
    """Refuse to continue a study directory with another protocol."""
    if study.path.exists() and not study.path.is_dir():
        raise ConfigError(f"{study.path} is a file, not a study directory: choose another --out")
    if not study.spec.exists():
        if study.path.exists() and any(
            p.name not in ("trials", "outcomes") for p in study.path.iterdir()
        ):
            raise ConfigError(f"{study.path} exists and holds no study: choose another --out")
        return
    old = spec_from_dict(
        OmegaConf.to_container(OmegaConf.load(study.spec)), str(study.spec)
    ).to_dict()
    new = spec.to_dict()
    for key in new:
        if key in FREE:
            continue
        if old.get(key) != new[key]:
            raise ConfigError(
                f"{study.path} holds a study with another {key!r} ({old.get(key)!r} there, "
                f"{new[key]!r} now): pass the same spec and --budget, or choose another --out"
            )
    for what in ("recipes", "datasets"):
        for name, entry in new[what].items():
            if name in old[what] and old[what][name] != entry:
                raise ConfigError(
                    f"{study.path}: {what}.{name} differs from the study there: choose another --out"
                )


def run_study(
    spec: StudySpec,
    out: str | Path,
    backend: str = "ray",
    address: str | None = None,
    cpus: int | None = None,
    gpus: int | None = None,
    retry_failed: bool = False,
    report: bool = True,
    echo: Callable[[str], None] = lambda line: print(line, flush=True),
) -> Any:
    """Run (or continue) ``spec`` in ``out``; returns the results table (a pandas DataFrame)."""
    if backend not in ("ray", "local"):
        raise ConfigError(f"--backend {backend!r}: use ray or local")
    study = StudyDir(out)
    check_same_protocol(study, spec)
    infos = validate_spec(spec)
    trials = expand(spec, infos)
    started_ray = False
    if backend == "ray":
        from ganarium.study.ray_backend import start_ray

        started_ray = start_ray(address, cpus or os.cpu_count() or 1, gpus)
    elif address:
        raise ConfigError("--address is for --backend ray; the local backend runs on this machine")
    try:
        return _run(study, spec, trials, backend, cpus, retry_failed, report, echo)
    finally:
        if started_ray:
            import ray

            ray.shutdown()


def _run(study, spec, trials, backend, cpus, retry_failed, report, echo) -> Any:
    study.create()
    atomic_write_text(study.spec, spec.to_yaml())
    if retry_failed:
        for t in trials:
            row = study.read_outcome(t.id)
            if row is not None and row["status"] == "failed":
                study.outcome(t.id).unlink()
                study.progress(t.id).unlink(missing_ok=True)
                shutil.rmtree(study.run(t.id), ignore_errors=True)
    ids = [t.id for t in trials]
    done = {r["trial"] for r in study.outcomes_of(ids)}
    pending = [t for t in trials if t.id not in done]
    resuming = sum(1 for t in pending if (study.run(t.id) / "checkpoints" / "latest.pt").exists())
    cpus = cpus or os.cpu_count() or 1
    per = float(spec.resources.get("cpu", 1))
    echo(
        f"study {spec.name}: {len(trials)} trials ({len(done)} done, {len(pending)} to run, "
        f"{resuming} of them resuming) on {backend} with {cpus} CPUs -> {study.path}"
    )
    finished = [len(done)]
    t0 = time.perf_counter()

    def on_done(trial: Trial, row: dict[str, Any]) -> None:
        if row["status"] == "busy":
            echo(f"[-/{len(trials)}] {trial.id} left alone: {row['error']}; run again later")
            return
        finished[0] += 1
        study.write_table(study.outcomes_of(ids))
        what = (
            f"{row.get('objective_name', '')} {row['objective']:.4g}"
            if row["status"] != "failed" and row.get("objective") is not None
            else row.get("error", "")
        )
        echo(
            f"[{finished[0]}/{len(trials)}] {trial.id} {row['status']}: {what} ({row.get('wall_s') or 0:.0f} s)"
        )

    asha = pending[0].asha if pending and pending[0].asha else None
    earlier = study.outcomes_of(ids)
    if pending:
        if backend == "ray":
            from ganarium.study.ray_backend import run_ray

            run_ray(pending, study.path, on_done, asha, earlier)
        else:
            from ganarium.study.local import run_local

            run_local(pending, study.path, max(1, int(cpus // per)), on_done, asha, earlier)
    frame = study.write_table(study.outcomes_of(ids))
    missing = [t.id for t in trials if study.read_outcome(t.id) is None]
    echo(
        f"study {spec.name}: {len(frame)} of {len(trials)} trials recorded "
        f"({(frame['status'] == 'failed').sum()} failed) in {time.perf_counter() - t0:.0f} s; "
        f"table {study.csv}"
    )
    if missing:
        raise GanariumError(
            f"{len(missing)} trials have no result yet (e.g. {missing[0]}): run the same command again to continue"
        )
    if report:
        from ganarium.study.report import write_study_report

        echo(f"report {write_study_report(study.path)}")
    return frame
