"""Learning checks: does a recipe learn? Train it briefly on small data and compare a metric
with the untrained model's, against bars stated in its registration (``LearningCheck``).

Check kinds (how to measure, how to judge) register in this package's modules, so a new
family of recipes adds its own kind in its own file.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ganarium.data import DataInfo, dataset_info, in_memory, load_dataset
from ganarium.errors import GanariumError
from ganarium.models import RECIPES, Capabilities, LearningCheck, Recipe
from ganarium.registry import Registry
from ganarium.training.trainer import TrainConfig, Trainer

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
    floor: dict[str, float] = field(default_factory=dict)  # the real-data figures, same measure

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        fmt = lambda d: ", ".join(f"{k}={v:.3g}" for k, v in d.items())  # noqa: E731
        verdict = "PASS" if self.passed else "FAIL: " + "; ".join(self.failures)
        return f"{self.recipe} [{self.kind} on {self.data}, {self.steps} steps] before: {fmt(self.before)} | after: {fmt(self.after)} -> {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def bar_margins(
    judge: Judge, before: dict[str, float], after: dict[str, float], bars: dict[str, float]
) -> dict[str, float | None]:
    """How far each bar could be tightened with this result still passing (negative: how far
    it would have to be loosened to pass), in the bar's own units, found from the judge itself
    so it holds for every check kind. The other bars are set loose while one is probed; a bar
    the judge does not react to has None."""
    big = 1e6

    def passes(values: dict[str, float]) -> bool:
        try:
            return not judge(before, after, values)
        except (ZeroDivisionError, ValueError, OverflowError):
            return False

    out: dict[str, float | None] = {}
    for key, bar in bars.items():
        others = [k for k in bars if k != key]
        loose = dict(bars)
        for signs in itertools.product((-1.0, 1.0), repeat=len(others)):
            trial = {**bars, **{k: bars[k] + s * big for k, s in zip(others, signs)}}
            if passes({**trial, key: bar - big}) or passes({**trial, key: bar + big}):
                loose = trial  # every other bar set loose: only this one can fail
                break
        up, down = passes({**loose, key: bar + big}), passes({**loose, key: bar - big})
        if up == down:
            out[key] = None  # the judge ignores this bar here (or it can never pass)
            continue
        stricter = 1.0 if down else -1.0  # the direction in which it stops passing
        # bisect the distance from the bar to where passing turns to failing
        lo, hi = -big, big  # signed moves (in the stricter direction): passes at lo, fails at hi
        for _ in range(80):
            mid = (lo + hi) / 2
            if passes({**loose, key: bar + stricter * mid}):
                lo = mid
            else:
                hi = mid
        out[key] = round(lo, 6)
    return out


def learning_check(recipe: str) -> LearningCheck:
    check = RECIPES.meta(recipe).get("check")
    if check is None:
        raise LookupError(f"recipe {recipe!r} registers no learning check")
    return check


class RealData:
    """A perfect generator for a check's measure: ``generate`` returns real training samples
    (of the requested labels, when given), so the measure's figures on it are the real-data
    floor beside the recipe's. Kinds whose measure needs more than sampling have no floor."""

    name = "real data"
    requires_labels = False

    def __init__(self, tensors: dict[str, torch.Tensor], info: DataInfo, seed: int = 1) -> None:
        self.x, self.y, self.info = tensors["image"], tensors.get("label"), info
        self.gen = torch.Generator().manual_seed(seed)

    def capabilities(self) -> Capabilities:
        return Capabilities(conditional=self.y is not None and bool((self.y >= 0).any()))

    def generate(self, n: int, labels: torch.Tensor | None = None, **_: Any) -> torch.Tensor:
        if labels is None:
            return self.x[torch.randint(len(self.x), (n,), generator=self.gen)]
        picks = []
        for label in labels.tolist():
            pool = (self.y == label).nonzero().flatten()
            picks.append(pool[torch.randint(len(pool), (1,), generator=self.gen)])
        return self.x[torch.cat(picks)]


_FLOORS: dict[str, dict[str, float]] = {}


def real_data_floor(kind: CheckKind, check: LearningCheck) -> dict[str, float]:
    """The check's measure on real training data (cached per kind and data), or {} when the
    measure needs more of a recipe than samples (a classifier, an encoder, a translator)."""
    key = f"{check.kind}|{check.data}|{sorted(check.data_options.items())}|{check.train}"
    if key not in _FLOORS:
        data = load_dataset(check.data, **check.data_options)
        tensors = in_memory(data)
        floor: dict[str, float] = {}
        if tensors is not None and "image_b" not in tensors:
            try:
                floor = measure_seeded(
                    kind, RealData(tensors, dataset_info(data)), data.info, check, 0
                )  # type: ignore[arg-type]
            except (AttributeError, TypeError, KeyError, NotImplementedError, GanariumError):
                floor = {}
        _FLOORS[key] = floor
    return _FLOORS[key]


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


def check_seed() -> int:
    """The seed of the check being measured: ``measure_seeded`` runs a kind's measure under
    ``torch.manual_seed(seed + 777)``, so a measure can read it back."""
    return torch.initial_seed() - 777


_ABLATIONS: dict[str, dict[str, float]] = {}


def ablation_scores(
    recipe: Recipe,
    check: LearningCheck,
    overrides: dict[str, Any],
    score: Callable[[Recipe], dict[str, float]],
) -> dict[str, float]:
    """``score`` of the same recipe and check trained with the recipe's hyper-parameters but
    ``overrides`` (e.g. one discriminator, no augmentation) at the check's seed and step
    budget: the baseline a kind compares the recipe with. Call it from a measure; ``score`` runs
    under the seed the measure runs under, and the result is cached per recipe, its
    hyper-parameters, check, overrides and seed."""
    seed = check_seed()
    model = {**vars(recipe.hp), **overrides}
    key = f"{recipe.name}|{check!r}|{sorted(model.items())}|{seed}"
    if key not in _ABLATIONS:
        with torch.random.fork_rng():
            trainer = check_trainer(recipe.name, seed, model=model, check=check)[0]
            trainer.fit()
            torch.manual_seed(seed + 777)
            _ABLATIONS[key] = score(trainer.recipe)
    return _ABLATIONS[key]


def check_trainer(
    recipe: str,
    seed: int = 0,
    steps: int | None = None,
    model: dict[str, Any] | None = None,
    check: LearningCheck | None = None,
    train_options: dict[str, Any] | None = None,
) -> tuple[Trainer, LearningCheck, DataInfo]:
    """A Trainer for ``recipe`` set up as its LearningCheck says (data, model overrides, batch,
    CPU, no run directory), not yet run; ``steps`` and ``model`` override the check's,
    ``train_options`` override its train settings, and ``check`` replaces the registered one (for
    experiments on other settings)."""
    check = check or learning_check(recipe)
    dataset = load_dataset(check.data, **check.data_options)
    info = dataset_info(dataset)
    torch.manual_seed(seed)
    cls = RECIPES.get(recipe)
    net = cls(info, **{**check.model, **(model or {})})
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
    train.update(cls.train_defaults)
    train.update(check.train, steps=n_steps)
    train.update(train_options or {})
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
    seconds = time.perf_counter() - t0
    floor = {k: v for k, v in real_data_floor(kind, check).items() if k in after}
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
        seconds,
        floor,
    )
