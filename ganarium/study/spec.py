"""A study spec: which recipes on which data, their search space, how many samples and seeds,
the training budget and the metrics. Read from YAML (or a preset) and checked before any work:
an unknown recipe, dataset, key or distribution is refused in one line.

    name: my-study
    recipes: {gan-ns: {}, wgan-gp: {search: {gp_weight: {log_uniform: [0.1, 100]}}}}
    datasets: {digits: {options: {size: 16}}, shapes: {options: {size: 16}, steps: 600}}
    fixed: {model.net: infogan, model.z_dim: 64}       # every trial, where the recipe has the key
    search: {lr: {log_uniform: [1.0e-5, 1.0e-2], keys: [model.lr_g, model.lr_d]}}
    samples: 10               # per recipe and dataset; with include_defaults, sample 0 = defaults
    seeds: 1                  # training runs (random restarts) per sample
    budget: {epochs: 20, epoch_images: 50000, scale: 1.0}    # or {steps: 400}
    metrics: {end: [fid, pr, exact], n: 10000, during: {every_epochs: 5, metrics: [fid], n: 2000},
              extractor: auto}   # auto: the data's own network; inception (needs its weights)
    objective: fid            # lower is better; what the plots and "best" read
    resources: {cpu: 1, gpu: 0}   # per trial (fractional GPUs allowed on Ray)
    asha: {enabled: false, grace_epochs: 5, eta: 3}   # grace: the first rung (default: first evaluation)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ganarium.errors import ConfigError, GanariumError, suggest
from ganarium.study.space import Distribution, parse_distribution, parse_key

TOP_KEYS = (
    "name recipes datasets fixed search samples include_defaults seeds seed budget metrics "
    "objective resources train asha"
).split()
OBJECTIVES = ("fid", "kid")  # lower is better for both


@dataclass
class RecipeEntry:
    fixed: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Distribution] = field(default_factory=dict)


@dataclass
class DatasetEntry:
    options: dict[str, Any] = field(default_factory=dict)
    epochs: float | None = None  # this dataset's budget in epochs (else the study's)
    steps: int | None = None  # or in steps (for budgets given in steps)


@dataclass
class StudySpec:
    name: str
    recipes: dict[str, RecipeEntry]
    datasets: dict[str, DatasetEntry]
    fixed: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Distribution] = field(default_factory=dict)
    samples: int = 10
    include_defaults: bool = True
    seeds: int = 1
    seed: int = 0
    budget: dict[str, float] = field(default_factory=lambda: {"steps": 1000})
    metrics: dict[str, Any] = field(default_factory=lambda: {"end": ["fid"], "n": 10000})
    objective: str = "fid"
    resources: dict[str, float] = field(default_factory=lambda: {"cpu": 1, "gpu": 0})
    train: dict[str, Any] = field(default_factory=dict)
    asha: dict[str, Any] = field(default_factory=lambda: {"enabled": False})

    # -- the budget ------------------------------------------------------------------------
    def steps_for(self, dataset: str, batch_size: int) -> int:
        """Generator steps of one trial on ``dataset``: epochs * epoch_images / batch * scale."""
        b = self.budget
        scale = float(b.get("scale", 1.0))
        entry = self.datasets[dataset]
        if entry.steps is not None or "steps" in b:
            return max(1, round(float(entry.steps or b["steps"]) * scale))
        epochs = self.datasets[dataset].epochs or float(b["epochs"])
        return max(1, round(epochs * float(b["epoch_images"]) * scale / batch_size))

    def interval(self, epochs: float | None, steps: float | None, batch_size: int) -> int:
        """An interval (evaluations, ASHA's grace period) given in epochs or in steps, scaled
        with the budget like the trials' length."""
        scale = float(self.budget.get("scale", 1.0))
        if steps is not None:
            return max(1, round(float(steps) * scale))
        if "epoch_images" not in self.budget:
            raise ConfigError("an interval in epochs needs budget.epoch_images: give it in steps")
        return max(
            1, round(float(epochs) * float(self.budget["epoch_images"]) * scale / batch_size)
        )

    def scaled(self, factor: float) -> StudySpec:
        budget = {**self.budget, "scale": float(self.budget.get("scale", 1.0)) * factor}
        return replace(self, budget=budget)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["search"] = {k: v.to_dict() for k, v in self.search.items()}
        out["recipes"] = {
            r: {"fixed": e.fixed, "search": {k: v.to_dict() for k, v in e.search.items()}}
            for r, e in self.recipes.items()
        }
        return out

    def to_yaml(self) -> str:
        return OmegaConf.to_yaml(OmegaConf.create(self.to_dict()))


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping, not {value!r}")
    return dict(value)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}={value!r} must be a whole number >= 1")
    return value


def _space(raw: Any, where: str) -> dict[str, Distribution]:
    return {n: parse_distribution(n, e, where) for n, e in _mapping(raw, where).items()}


def _fixed(raw: Any, where: str) -> dict[str, Any]:
    out = _mapping(raw, where)
    for k in out:
        parse_key(k, where)
    return out


def spec_from_dict(raw: dict[str, Any], source: str = "spec") -> StudySpec:
    """Parse and check the form of a spec (keys, distributions, numbers); ``validate_spec``
    then checks its names against the registries."""
    raw = _mapping(raw, source)
    for k in raw:
        if k not in TOP_KEYS:
            raise ConfigError(
                f"{source}: unknown key {k!r}.{suggest(k, TOP_KEYS)} Known: {', '.join(TOP_KEYS)}"
            )
    for k in ("recipes", "datasets"):
        if not raw.get(k):
            raise ConfigError(f"{source}: '{k}' is missing or empty: name at least one")
    recipes_raw = raw["recipes"]
    if isinstance(recipes_raw, (list, tuple)):
        recipes_raw = {r: {} for r in recipes_raw}
    recipes = {}
    for r, e in _mapping(recipes_raw, "recipes").items():
        e = _mapping(e, f"recipes.{r}")
        bad = [k for k in e if k not in ("fixed", "search")]
        if bad:
            raise ConfigError(f"recipes.{r}: unknown key {bad[0]!r}: use fixed and search")
        recipes[r] = RecipeEntry(
            _fixed(e.get("fixed"), f"recipes.{r}.fixed"),
            _space(e.get("search"), f"recipes.{r}.search"),
        )
    datasets_raw = raw["datasets"]
    if isinstance(datasets_raw, (list, tuple)):
        datasets_raw = {d: {} for d in datasets_raw}
    datasets = {}
    for d, e in _mapping(datasets_raw, "datasets").items():
        e = _mapping(e, f"datasets.{d}")
        bad = [k for k in e if k not in ("options", "epochs", "steps")]
        if bad:
            raise ConfigError(f"datasets.{d}: unknown key {bad[0]!r}: use options, epochs, steps")
        datasets[d] = DatasetEntry(
            _mapping(e.get("options"), f"datasets.{d}.options"), e.get("epochs"), e.get("steps")
        )
    spec = StudySpec(
        name=str(raw.get("name", Path(source).stem)),
        recipes=recipes,
        datasets=datasets,
        fixed=_fixed(raw.get("fixed"), "fixed"),
        search=_space(raw.get("search"), "search"),
        samples=_positive_int(raw.get("samples", 10), "samples"),
        include_defaults=bool(raw.get("include_defaults", True)),
        seeds=_positive_int(raw.get("seeds", 1), "seeds"),
        seed=int(raw.get("seed", 0)),
        budget=_mapping(raw.get("budget", {"steps": 1000}), "budget"),
        metrics=_mapping(raw.get("metrics", {"end": ["fid"], "n": 10000}), "metrics"),
        objective=str(raw.get("objective", "fid")),
        resources={"cpu": 1, "gpu": 0, **_mapping(raw.get("resources"), "resources")},
        train=_mapping(raw.get("train"), "train"),
        asha={"enabled": False, "eta": 3, **_mapping(raw.get("asha"), "asha")},
    )
    _check_numbers(spec)
    return spec


def _check_numbers(spec: StudySpec) -> None:
    b = spec.budget
    unknown = [k for k in b if k not in ("steps", "epochs", "epoch_images", "scale")]
    if unknown:
        raise ConfigError(
            f"budget: unknown key {unknown[0]!r}: use steps, or epochs and epoch_images; scale"
        )
    if "steps" not in b and not ("epochs" in b and "epoch_images" in b):
        raise ConfigError(
            "budget needs steps, or epochs and epoch_images (e.g. {epochs: 20, epoch_images: 50000})"
        )
    for k, v in b.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ConfigError(f"budget.{k}={v!r} must be a positive number")
    for d, e in spec.datasets.items():
        for what, v in (("epochs", e.epochs), ("steps", e.steps)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
                raise ConfigError(f"datasets.{d}.{what}={v!r} must be a positive number")
    m = spec.metrics
    unknown = [k for k in m if k not in ("end", "n", "during", "extractor")]
    if unknown:
        raise ConfigError(f"metrics: unknown key {unknown[0]!r}: use end, n, during and extractor")
    if not isinstance(m.get("end", []), (list, tuple)):
        raise ConfigError(f"metrics.end must be a list such as [fid, pr], not {m['end']!r}")
    _positive_int(m.get("n", 10000), "metrics.n")
    during = m.get("during")
    if during is not None:
        during = _mapping(during, "metrics.during")
        unknown = [k for k in during if k not in ("every_epochs", "every_steps", "metrics", "n")]
        if unknown:
            raise ConfigError(
                f"metrics.during: unknown key {unknown[0]!r}: use every_epochs or every_steps, metrics, n"
            )
        if ("every_epochs" in during) == ("every_steps" in during):
            raise ConfigError("metrics.during needs one of every_epochs or every_steps")
    if spec.objective not in OBJECTIVES:
        raise ConfigError(
            f"objective {spec.objective!r} is not one of {', '.join(OBJECTIVES)}.{suggest(spec.objective, OBJECTIVES)}"
        )
    for k, v in spec.resources.items():
        if k not in ("cpu", "gpu"):
            raise ConfigError(f"resources: unknown key {k!r}: use cpu and gpu")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(f"resources.{k}={v!r} must be a number >= 0")
    if spec.resources["cpu"] <= 0:
        raise ConfigError("resources.cpu must be above 0 (e.g. 1)")
    unknown = [k for k in spec.asha if k not in ("enabled", "eta", "grace_epochs", "grace_steps")]
    if unknown:
        raise ConfigError(
            f"asha: unknown key {unknown[0]!r}: use enabled, eta, grace_epochs or grace_steps"
        )
    eta = spec.asha.get("eta", 3)
    if not isinstance(eta, (int, float)) or eta <= 1:
        raise ConfigError(f"asha.eta={eta!r} must be above 1 (e.g. 3)")


def load_spec(path: str | Path) -> StudySpec:
    """A spec from a YAML file; a missing or unreadable file is refused in one line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(
            f"study spec {p} {'is a folder' if p.is_dir() else 'does not exist'}: pass a YAML file or a preset name"
        )
    try:
        raw = OmegaConf.to_container(OmegaConf.load(p), resolve=True)
    except Exception as e:  # noqa: BLE001 - any YAML error becomes one line
        raise ConfigError(f"study spec {p} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"study spec {p} must be a mapping with recipes and datasets")
    return spec_from_dict(raw, str(p))


def restrict(
    spec: StudySpec,
    recipes: list[str] | None = None,
    datasets: list[str] | None = None,
    samples: int | None = None,
    seeds: int | None = None,
) -> StudySpec:
    """The same study on fewer recipes / datasets, or with another number of samples or seeds."""
    out = spec
    for what, names in (("recipes", recipes), ("datasets", datasets)):
        if names:
            have = getattr(spec, what)
            for n in names:
                if n not in have:
                    raise GanariumError(
                        f"--{what} {n!r} is not in the study's {what} ({', '.join(have)}).{suggest(n, have)}"
                    )
            out = replace(out, **{what: {n: have[n] for n in names}})
    if samples is not None:
        out = replace(out, samples=_positive_int(samples, "--samples"))
    if seeds is not None:
        out = replace(out, seeds=_positive_int(seeds, "--seeds"))
    return out
