"""The local backend: trials on ``workers`` processes of their own (spawned, so no state is
shared with the driver), one trial at a time each, without Ray.

A trial process records its own outcome. One that dies without doing so (killed, out of
memory, a crash in native code) is recorded as failed by the driver with its exit status. Trial
processes die with the driver (Linux: PR_SET_PDEATHSIG), so a killed study leaves no orphan
writing into a trial's run directory; running the command again resumes it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

from ganarium.study.asha import Rungs
from ganarium.study.layout import StudyDir
from ganarium.study.trial import crashed_row
from ganarium.study.trials import Trial

OnDone = Callable[[Trial, dict[str, Any]], None]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _die_with_parent(parent: int) -> None:
    if os.uname().sysname == "Linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the driver died before the line above ran
        os._exit(1)


def _worker_main(conn: Any, study_dir: str, parent: int, rungs: Any) -> None:
    """A worker: runs the trials it is sent, one at a time, answering each one's id when done.
    Imports and caches (data, feature references) are paid once per worker, not per trial."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    from ganarium.study.trial import run_trial

    decide = rungs.decide if rungs is not None else None
    while True:
        trial = conn.recv()
        if trial is None:
            return
        row = run_trial(Trial.from_dict(trial), study_dir, decide=decide)
        conn.send(row["status"])


class _Manager(BaseManager):
    pass


_Manager.register("Rungs", Rungs)


class _Worker:
    def __init__(self, ctx: Any, study_dir: Path, rungs: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main, args=(child, str(study_dir), os.getpid(), rungs), daemon=True
        )
        self.proc.start()
        child.close()
        self.trial: Trial | None = None


def run_local(
    trials: list[Trial],
    study_dir: Path,
    workers: int,
    on_done: OnDone,
    asha: dict[str, Any] | None = None,
    outcomes: list[dict[str, Any]] | None = None,
) -> None:
    """Run ``trials`` on at most ``workers`` processes; ``on_done(trial, row)`` after each."""
    ctx = mp.get_context("spawn")
    study = StudyDir(study_dir)
    manager, rungs = None, None
    if asha:
        manager = _Manager(ctx=ctx)
        manager.start()
        rungs = manager.Rungs(asha["grace"], asha["eta"])
        rungs.load(outcomes or [])
    queue = list(trials)
    # each worker's numerical libraries use the trial's CPUs, as Ray sets them for its workers
    threads = str(max(1, int(trials[0].resources.get("cpu", 1)))) if trials else "1"
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: threads for k in THREAD_VARS})
    try:
        pool = [_Worker(ctx, study_dir, rungs) for _ in range(min(workers, len(queue)))]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        while queue or any(w.trial for w in pool):
            for i, w in enumerate(pool):
                if not w.proc.is_alive() and queue:
                    pool[i] = w = _Worker(ctx, study_dir, rungs)
                if w.trial is None and queue and w.proc.is_alive():
                    w.trial = queue.pop(0)
                    study.event(w.trial.id, "submitted", backend="local", worker_pid=w.proc.pid)
                    w.conn.send(w.trial.to_dict())
            busy = [w for w in pool if w.trial is not None]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
            for w in busy:
                status = None
                if w.conn in ready and w.conn.poll():
                    status = w.conn.recv()
                elif w.proc.sentinel in ready:
                    w.proc.join()
                else:
                    continue
                trial, w.trial = w.trial, None
                row = study.read_outcome(trial.id)
                if status == "busy":
                    row = {
                        "trial": trial.id,
                        "status": "busy",
                        "error": "another process writes it",
                    }
                elif row is None:
                    row = crashed_row(trial, _exit_text(w.proc.exitcode))
                    study.write_outcome(trial.id, row)
                    study.event(trial.id, "failed", error=row["error"])
                on_done(trial, row)
        for w in pool:
            if w.proc.is_alive():
                w.conn.send(None)
        for w in pool:
            w.proc.join(timeout=30)
    finally:
        for w in pool:
            if w.proc.is_alive():
                w.proc.kill()
        if manager is not None:
            manager.shutdown()


def _exit_text(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        hint = ": out of memory?" if exitcode == -signal.SIGKILL else ""
        return f"killed by signal {-exitcode}{hint}"
    return f"exit status {exitcode}"
