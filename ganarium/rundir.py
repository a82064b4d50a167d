"""The layout of a run directory (see DESIGN.md, "Runs")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganarium.checkpoint import atomic_write_text


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
