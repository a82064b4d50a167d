"""Learning checks: does a recipe learn? Train it briefly on small data and compare a metric
with the untrained model's, against bars stated in its registration (``LearningCheck``).

Check kinds (how to measure, how to judge) register in this package's modules, so a new
family of recipes adds its own kind in its own file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ganarium.data import DataInfo, dataset_info, load_dataset
from ganarium.models import RECIPES, LearningCheck, Recipe
from ganarium.registry import Registry
from ganarium.train import TrainConfig, Trainer

# measure(recipe, info, check, history): ``history`` holds the records the Trainer logged (empty
# for the untrained model), so a kind can judge a recipe's progress signals
Measure = Callable[[Recipe, DataInfo, LearningCheck, list[dict[str, Any]]], dict[str, float]]
Judge = Callable[[dict[str, float], dict[str, float], dict[str, float]], list[str]]


@dataclass(frozen=True)
class CheckKind:
    measure: Measure  # metrics of a (trained or untrained) recipe
    judge: Judge  # (before, after, bars) -> list of failed conditions, empty when it passes
    describe: Callable[[dict[str, float]], str]  # the bars in words, for the README


CHECK_KINDS: Registry[CheckKind] = Registry("learning check kind", package="ganarium.checks")


@dataclass
class CheckResult:
    recipe: str
    kind: str
    data: str
    steps: int
    before: dict[str, float]
    after: dict[str, float]
    bars: dict[str, float]
    failures: list[str] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        fmt = lambda d: ", ".join(f"{k}={v:.3g}" for k, v in d.items())  # noqa: E731
        verdict = "PASS" if self.passed else "FAIL: " + "; ".join(self.failures)
        return f"{self.recipe} [{self.kind} on {self.data}, {self.steps} steps] before: {fmt(self.before)} | after: {fmt(self.after)} -> {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def learning_check(recipe: str) -> LearningCheck:
    check = RECIPES.meta(recipe).get("check")
    if check is None:
        raise LookupError(f"recipe {recipe!r} registers no learning check")
    return check


def measure_seeded(
    kind: CheckKind,
    recipe: Recipe,
    info: DataInfo,
    check: LearningCheck,
    seed: int,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, float]:
    """Measure with a fixed noise seed, without disturbing the training RNG stream."""
    with torch.random.fork_rng():
        torch.manual_seed(seed + 777)
        return kind.measure(recipe, info, check, list(history or []))


def check_trainer(
    recipe: str, seed: int = 0, steps: int | None = None, model: dict[str, Any] | None = None
) -> tuple[Trainer, LearningCheck, DataInfo]:
    """A Trainer for ``recipe`` set up as its LearningCheck says (data, model overrides, batch,
    CPU, no run directory), not yet run; ``steps`` and ``model`` override the check's."""
    check = learning_check(recipe)
    dataset = load_dataset(check.data, **check.data_options)
    info = dataset_info(dataset)
    torch.manual_seed(seed)
    net = RECIPES.get(recipe)(info, **{**check.model, **(model or {})})
    n_steps = steps if steps is not None else check.steps
    train = dict(
        seed=seed,
        device="cpu",
        progress=False,
        tensorboard=False,
        log_every=max(1, n_steps // 10),
        sample_every=0,
        checkpoint_every=0,
    )
    train.update(check.train, steps=n_steps)
    return Trainer(net, dataset, TrainConfig(**train)), check, info


def run_check(
    recipe: str, seed: int = 0, steps: int | None = None, model: dict[str, Any] | None = None
) -> CheckResult:
    """Train ``recipe`` as its LearningCheck says (CPU, no run directory) and judge it.
    ``steps`` and ``model`` (hyper-parameter overrides) are for experiments, not for tests."""
    trainer, check, info = check_trainer(recipe, seed, steps, model)
    kind = CHECK_KINDS.get(check.kind)
    net = trainer.recipe
    t0 = time.perf_counter()
    before = measure_seeded(kind, net, info, check, seed)
    history = trainer.fit()
    after = measure_seeded(kind, net, info, check, seed, history)
    return CheckResult(
        recipe,
        check.kind,
        check.data,
        trainer.cfg.steps,
        before,
        after,
        dict(check.bars),
        kind.judge(before, after, dict(check.bars)),
        check.reason,
        time.perf_counter() - t0,
    )
