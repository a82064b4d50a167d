"""The layout of a run directory (see DESIGN.md, "Runs")."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from ganarium.checkpoint import atomic_write_text
from ganarium.errors import GanariumError


class RunLockedError(GanariumError):
    """Another process is writing this run."""


class RunLock:
    """One writer per run: an exclusive ``flock`` on ``RUN/.lock`` held while training.

    The kernel drops the lock when its process dies, so a lock left by a killed run is free
    and is taken over (``took_over`` says whose it was). The file itself stays, holding the
    writer's pid, host and start time while it is held, so a refusal can name the holder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.took_over = ""

    def acquire(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunLockedError(
                f"run {self.path.parent} is being written by process {holder.get('pid', '?')} "
                f"on {holder.get('host', '?')} (since {holder.get('started', '?')}): wait for it "
                f"to finish or stop it before training this run again"
            ) from None
        previous = _read_holder(fd)
        if previous.get("pid") not in (None, os.getpid()):
            self.took_over = (
                f"took over the lock of process {previous['pid']} on {previous.get('host', '?')}, "
                "which is gone"
            )
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%c")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    def __del__(self) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (ValueError, OSError):
        return {}


class RunDir:
    """runs/<name>/{config.yaml, recipe.json, checkpoints/, samples/, metrics.jsonl, tb/,
    report.html, eval.json}."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def latest(self) -> Path:
        return self.checkpoints / "latest.pt"

    def step_checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:06d}.pt"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    def sample_grid(self, step: int) -> Path:
        return self.samples / f"step_{step:06d}.png"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def tb(self) -> Path:
        return self.path / "tb"

    @property
    def report(self) -> Path:
        return self.path / "report.html"

    @property
    def summary(self) -> Path:
        """recipe.json: the recipe's nets with parameter counts and its capabilities."""
        return self.path / "recipe.json"

    def create(self) -> None:
        for d in (self.path, self.checkpoints, self.samples):
            d.mkdir(parents=True, exist_ok=True)

    def acquire_lock(self) -> RunLock:
        """Hold the run's writer lock (refused in one line while another process holds it)."""
        return RunLock(self.path / ".lock").acquire()

    def has_checkpoint(self) -> bool:
        return self.latest.exists()

    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics.exists():
            return []
        out = []
        for line in self.metrics.read_text().splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a line cut short by a kill: everything before it is good
        return out

    def truncate_metrics(self, last_step: int) -> None:
        """Drop records logged after ``last_step`` (they belong to work a resume redoes)."""
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= last_step]
        atomic_write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))

    def step_checkpoints(self) -> list[Path]:
        return sorted(self.checkpoints.glob("step_*.pt"))
