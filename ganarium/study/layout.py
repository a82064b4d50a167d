"""The layout of a study directory, and its results table.

STUDY/
  study.yaml              the resolved spec (budget scale included); a rerun must match it
  trials/<id>/            one ordinary ganarium run per trial (sample, eval, report work)
  outcomes/<id>.json      the trial's row once it finished, failed or was stopped
  outcomes/<id>.progress  wall time and best objective at its last checkpoint (for resume)
  results.csv, results.parquet    every outcome, one row per trial
  log.jsonl               events: submitted, start, resume, finished, failed, stopped
  study.html              the study report
  ray/                    Ray Tune's own experiment records (ray backend)
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from ganarium.checkpoint import atomic_write_bytes, atomic_write_text

DONE = ("finished", "failed", "stopped")
FIRST_COLUMNS = [
    "trial",
    "recipe",
    "dataset",
    "sample",
    "restart",
    "seed",
    "status",
    "error",
    "objective_name",
    "objective",
    "best_objective",
    "steps",
    "planned_steps",
    "wall_s",
    "train_s",
    "eval_s",
]


class StudyDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def spec(self) -> Path:
        return self.path / "study.yaml"

    @property
    def trials(self) -> Path:
        return self.path / "trials"

    def run(self, trial_id: str) -> Path:
        return self.trials / trial_id

    @property
    def outcomes(self) -> Path:
        return self.path / "outcomes"

    def outcome(self, trial_id: str) -> Path:
        return self.outcomes / f"{trial_id}.json"

    def progress(self, trial_id: str) -> Path:
        return self.outcomes / f"{trial_id}.progress"

    @property
    def log(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def csv(self) -> Path:
        return self.path / "results.csv"

    @property
    def parquet(self) -> Path:
        return self.path / "results.parquet"

    @property
    def report(self) -> Path:
        return self.path / "study.html"

    @property
    def ray(self) -> Path:
        return self.path / "ray"

    def create(self) -> None:
        for d in (self.path, self.trials, self.outcomes):
            d.mkdir(parents=True, exist_ok=True)

    # -- outcomes ------------------------------------------------------------------------
    def write_outcome(self, trial_id: str, row: dict[str, Any]) -> None:
        self.outcomes.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.outcome(trial_id), json.dumps(_plain(row), indent=1))

    def read_outcome(self, trial_id: str) -> dict[str, Any] | None:
        try:
            row = json.loads(self.outcome(trial_id).read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return row if row.get("status") in DONE else None

    def read_progress(self, trial_id: str) -> dict[str, Any]:
        try:
            return json.loads(self.progress(trial_id).read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def outcomes_of(self, trial_ids: list[str]) -> list[dict[str, Any]]:
        """The recorded rows of these trials, in their order (missing ones left out)."""
        return [r for r in (self.read_outcome(t) for t in trial_ids) if r is not None]

    def event(self, trial_id: str, event: str, **fields: Any) -> None:
        """Append one line to log.jsonl (one write: lines from parallel trials never mix)."""
        line = (
            json.dumps(
                {
                    "time": round(time.time(), 3),
                    "trial": trial_id,
                    "event": event,
                    "pid": os.getpid(),
                    **_plain(fields),
                }
            )
            + "\n"
        )
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def events(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
        return out

    # -- the table -------------------------------------------------------------------------
    def write_table(self, rows: list[dict[str, Any]]):
        """results.csv and results.parquet, one row per trial, written atomically; returns the
        pandas DataFrame."""
        import pandas as pd

        frame = table_frame(rows)
        atomic_write_text(self.csv, frame.to_csv(index=False))
        buf = frame.to_parquet(index=False)
        atomic_write_bytes(self.parquet, lambda f: f.write(buf))
        del pd
        return frame

    def read_table(self):
        import pandas as pd

        if self.parquet.exists():
            return pd.read_parquet(self.parquet)
        if self.csv.exists():
            return pd.read_csv(self.csv)
        return table_frame([])


def table_frame(rows: list[dict[str, Any]]):
    """A DataFrame with the fixed columns first, then hyper-parameters (hp.*), then metrics."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for c in FIRST_COLUMNS:
        if c not in frame:
            frame[c] = pd.Series(
                dtype="float64" if c.endswith("_s") or "objective" == c else "object"
            )
    hp = sorted(c for c in frame.columns if c.startswith("hp."))
    rest = sorted(c for c in frame.columns if c not in FIRST_COLUMNS and c not in hp)
    frame = frame[FIRST_COLUMNS + hp + rest]
    for c in hp:  # mixed (number / text / empty) columns as text, so Parquet takes them
        if frame[c].map(type).nunique() > 1 and not pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = frame[c].map(
                lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            )
    return frame


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else x
    return x
