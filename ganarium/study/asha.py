"""Asynchronous successive halving (ASHA; Li et al. 2020, "A System for Massively Parallel
Hyperparameter Tuning", Algorithm 2), as a decision each trial asks for at its evaluations.

Rungs sit at grace * eta^k steps. A trial reaching a rung records its objective there and goes on
only if it is within the best 1/eta of the values recorded at that rung so far (lower is
better), the rule Ray Tune's ASHAScheduler applies. Trials end themselves through
``trainer.request_stop`` when told to stop, so a stopped trial is a complete run with its
checkpoint and its end-of-trial metrics, marked ``stopped`` in the table (Tune's own scheduler
would kill the trial's process mid-step instead).

The same ``Rungs`` object serves both backends: held by a Ray actor, or by a multiprocessing
manager for the local pool. A resumed study reloads the rungs from its recorded outcomes.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


class Rungs:
    def __init__(self, grace: int, eta: float = 3.0) -> None:
        self.grace, self.eta = max(1, int(grace)), float(eta)
        self.recorded: dict[int, dict[str, float]] = {}  # milestone -> trial -> value

    def milestones(self, step: int) -> list[int]:
        """Milestones at or below ``step``: grace, grace * eta, grace * eta^2, ..."""
        out, m = [], float(self.grace)
        while m <= step:
            out.append(int(round(m)))
            m *= self.eta
        return out

    def decide(self, trial: str, step: int, value: float) -> bool:
        """At the highest rung ``step`` has passed that the trial has not recorded: True (stop)
        when ``value`` is worse than the best 1/eta of the values others recorded there (none
        recorded: go on); then record it. Ray Tune's ``_Bracket.on_result`` rule, for minimising."""
        value = value if math.isfinite(value) else math.inf
        for milestone in reversed(self.milestones(step)):
            rung = self.recorded.setdefault(milestone, {})
            if trial in rung:
                continue
            others = list(rung.values())
            rung[trial] = value
            return bool(others) and value > float(np.nanpercentile(others, 100.0 / self.eta))
        return False

    def load(self, outcomes: list[dict[str, Any]]) -> None:
        """Rungs recorded by trials of an earlier session (their ``asha_rungs`` column)."""
        for row in outcomes:
            for step, value in json.loads(row.get("asha_rungs") or "{}").items():
                for milestone in self.milestones(int(step)):
                    self.recorded.setdefault(milestone, {}).setdefault(row["trial"], float(value))

    def state(self) -> dict[int, dict[str, float]]:
        return self.recorded
