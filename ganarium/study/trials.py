"""From a spec to its trials: every recipe x dataset x sample x restart, each an ordinary
ganarium run described by config overrides. The same spec always gives the same trials (ids,
hyper-parameters and seeds), which is what lets a study resume."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ganarium.config import default_config, to_dict
from ganarium.data import DATASETS, dataset_info, load_dataset
from ganarium.errors import ConfigError, DataError, suggest
from ganarium.metrics import domain_of
from ganarium.metrics.evaluate import METRICS, check_metrics
from ganarium.models import RECIPES
from ganarium.study.space import (
    get_key,
    has_key,
    parse_key,
    sample_space,
    set_key,
    stable_seed,
    trial_rng,
)
from ganarium.study.spec import StudySpec


@dataclass(frozen=True)
class Trial:
    """One training run of the study and how to judge it (JSON-friendly: it travels to workers)."""

    id: str
    recipe: str
    dataset: str
    sample: int
    restart: int
    seed: int
    params: dict[str, Any]  # search parameter -> value (None: the recipe has none of its keys)
    overrides: list[str]  # key=value for ganarium.runs.start_run
    steps: int
    metrics: list[str]  # `ganarium eval` groups at the end, those that apply to the data
    n_eval: int
    extractor: str = "auto"  # for fid / kid / pr / dc: the data's own network, or inception
    during: list[str] = field(default_factory=list)  # evaluated every eval_every steps
    n_during: int = 0
    eval_every: int = 0
    objective: str = "fid"
    asha: dict[str, Any] = field(default_factory=dict)  # {eta, grace} when ASHA is on
    resources: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Trial:
        return Trial(**d)


def _base_config(recipe: str, dataset: str) -> dict[str, Any]:
    return to_dict(default_config(recipe, dataset))


def validate_spec(spec: StudySpec) -> dict[str, Any]:
    """Check names against the registries and the data on this machine; returns each
    dataset's DataInfo (by name). Raises one ConfigError / DataError line."""
    for r in spec.recipes:
        if r not in RECIPES:
            raise ConfigError(
                f"unknown recipe {r!r} in the study spec.{suggest(r, RECIPES.names())} See `ganarium list`."
            )
    infos = {}
    for d, entry in spec.datasets.items():
        if d not in DATASETS:
            raise ConfigError(
                f"unknown dataset {d!r} in the study spec.{suggest(d, DATASETS.names())}"
            )
        base = _base_config(next(iter(spec.recipes)), d)["data"]
        for k in entry.options:
            if k not in base or k == "name":
                raise ConfigError(
                    f"datasets.{d}.options: {d} has no option {k!r}.{suggest(k, base)}"
                )
        try:
            infos[d] = dataset_info(load_dataset(d, **entry.options))
        except DataError as e:
            raise DataError(f"study dataset {d}: {e}") from None
    configs = {r: _base_config(r, next(iter(spec.datasets))) for r in spec.recipes}

    # a shared key may name a hyper-parameter of a recipe outside this study (model.lr for the
    # VAE next to the GANs' lr_g / lr_d); a name no registered recipe has is a typo
    anywhere = {k for name in RECIPES.names() for k in RECIPES.get(name).defaults}

    def check(key: str, where: str, recipes: list[str], shared: bool = True) -> None:
        if any(has_key(configs[r], key) for r in recipes):
            return
        section, _, name = key.partition(".")
        bare = name.split("[")[0]
        if shared and section == "model" and bare in anywhere:
            return
        known = sorted({k for r in recipes for k in configs[r].get(section, {})})
        owner = "no recipe" if shared else f"recipe {recipes[0]}"
        verb = "has" if shared else "has no"
        raise ConfigError(f"{where}: {owner} {verb} key {key!r}.{suggest(bare, known)}")

    def reaches(dist: Any, where: str) -> None:
        if not any(has_key(configs[r], k) for r in spec.recipes for k in dist.keys):
            raise ConfigError(
                f"{where}: none of its keys ({', '.join(dist.keys)}) belongs to a recipe of the study"
            )

    def declared(dist: Any, where: str, recipes: list[str]) -> None:
        """Every value a distribution can give a model.* key is one the key's declaration
        allows (a range's ends, each choice), for each recipe of the study that has the key."""
        for key in dist.keys:
            section, name, index = parse_key(key, where)
            if section != "model" or index is not None:
                continue
            for r in recipes:
                spec_ = RECIPES.get(r).Hparams.specs().get(name)
                for v in dist.args if spec_ is not None else ():
                    problem = spec_.problem(v)
                    if problem:
                        raise ConfigError(
                            f"{where}: {dist.kind} {list(dist.args)} gives {key}={v!r}, which "
                            f"recipe {r!r} refuses: {problem}"
                        )

    everyone = list(spec.recipes)
    for k in spec.fixed:
        check(k, "fixed", everyone)
    for name, dist in spec.search.items():
        for k in dist.keys:
            check(k, f"search.{name}", everyone)
        reaches(dist, f"search.{name}")
    for r, entry in spec.recipes.items():
        for k in entry.fixed:
            check(k, f"recipes.{r}.fixed", [r], shared=False)
        for name, dist in entry.search.items():
            for k in dist.keys:
                check(k, f"recipes.{r}.search.{name}", [r], shared=False)
    for name, dist in spec.search.items():
        declared(dist, f"search.{name}", everyone)
    for r, entry in spec.recipes.items():
        for name, dist in entry.search.items():
            declared(dist, f"recipes.{r}.search.{name}", [r])
    for k in spec.train:
        if k not in configs[everyone[0]]["train"]:
            raise ConfigError(f"train: no key {k!r}.{suggest(k, configs[everyone[0]]['train'])}")
    wanted = list(spec.metrics.get("end", [])) + list(
        (spec.metrics.get("during") or {}).get("metrics", [])
    )
    check_metrics(wanted)
    extractor = str(spec.metrics.get("extractor", "auto"))
    from ganarium.metrics.extractors import EXTRACTORS

    if extractor != "auto" and extractor not in EXTRACTORS:
        choices = ["auto", *EXTRACTORS.names()]
        raise ConfigError(
            f"metrics.extractor {extractor!r} is no feature extractor.{suggest(extractor, choices)} "
            f"Use one of {', '.join(choices)}"
        )
    needed = spec.objective
    if needed not in spec.metrics.get("end", []):
        raise ConfigError(f"objective {spec.objective!r} needs {needed!r} in metrics.end")
    if spec.asha.get("enabled") and needed not in (spec.metrics.get("during") or {}).get(
        "metrics", []
    ):
        raise ConfigError(
            f"ASHA judges trials by {spec.objective!r} during training: add metrics.during with "
            f"metrics: [{needed}] (e.g. {{every_epochs: 1, metrics: [{needed}], n: 1000}})"
        )
    return infos


def _applies(metric: str, info: Any) -> bool:
    domain = domain_of(info)
    if metric == "modes":
        return domain.modes is not None
    if metric == "exact":
        return domain.exact is not None
    return metric in METRICS


def _value(v: Any) -> str:
    return json.dumps(v)  # YAML reads JSON: strings quoted, lists and null as they are


def expand(spec: StudySpec, infos: dict[str, Any]) -> list[Trial]:
    """Every trial of ``spec`` in a fixed order (dataset, recipe, sample, restart)."""
    trials = []
    during = spec.metrics.get("during") or {}
    for dataset, dentry in spec.datasets.items():
        info = infos[dataset]
        metrics = [m for m in spec.metrics.get("end", []) if _applies(m, info)]
        during_metrics = [m for m in during.get("metrics", []) if _applies(m, info)]
        for recipe, rentry in spec.recipes.items():
            base = _base_config(recipe, dataset)
            space = {**spec.search, **rentry.search}
            configured = copy.deepcopy(base)
            configured["data"].update(dentry.options)
            root = configured["data"].get("root")
            if isinstance(root, str) and not Path(root).is_absolute():
                configured["data"]["root"] = str(Path(root).resolve())  # workers run elsewhere
            for k, v in {**spec.fixed, **rentry.fixed}.items():
                if has_key(configured, k):
                    set_key(configured, k, v)
            batch = int(configured["train"]["batch_size"])
            steps = spec.steps_for(dataset, batch)
            every = 0
            if during:
                every = spec.interval(during.get("every_epochs"), during.get("every_steps"), batch)
            for sample in range(spec.samples):
                defaults = spec.include_defaults and sample == 0
                drawn = sample_space(space, trial_rng(spec.seed, recipe, sample))
                config = copy.deepcopy(configured)
                params: dict[str, Any] = {}
                for name in sorted(space):
                    keys = [k for k in space[name].keys if has_key(config, k)]
                    if not keys:
                        params[name] = None
                    elif defaults:
                        params[name] = get_key(config, keys[0])
                    else:
                        params[name] = drawn[name]
                        for k in keys:
                            set_key(config, k, drawn[name])
                plan = _Plan(recipe, dataset, base, steps, every, metrics, during_metrics)
                for restart in range(spec.seeds):
                    seed = stable_seed(spec.seed, recipe, dataset, sample, restart)
                    trials.append(_trial(spec, plan, config, sample, restart, seed, params))
    return trials


@dataclass(frozen=True)
class _Plan:
    """What every trial of one recipe on one dataset shares."""

    recipe: str
    dataset: str
    base: dict[str, Any]  # the recipe's default config on the dataset: overrides are the changes
    steps: int
    every: int  # evaluate during training every this many steps (0: never)
    metrics: list[str]
    during_metrics: list[str]


def _trial(
    spec: StudySpec,
    plan: _Plan,
    config: dict[str, Any],
    sample: int,
    restart: int,
    seed: int,
    params: dict[str, Any],
) -> Trial:
    config = copy.deepcopy(config)
    train = config["train"]
    train.update({"steps": plan.steps, "seed": seed, "progress": False})
    train["log_every"] = max(1, min(50, plan.steps // 10))
    # the paper keeps a checkpoint every 5 of 20 epochs
    train["checkpoint_every"] = max(1, plan.steps // 4)
    train["sample_every"] = train["checkpoint_every"]
    train.update(spec.train)
    if plan.every and plan.during_metrics:
        train["eval_every"] = plan.every
        train["log_every"] = min(train["log_every"], plan.every)
    overrides = []
    for section in ("data", "model", "train"):
        for k, v in config[section].items():
            if plan.base[section].get(k) != v:
                overrides.append(f"{section}.{k}={_value(v)}")
    asha = {}
    if spec.asha.get("enabled"):
        batch = int(train["batch_size"])
        grace = spec.asha.get("grace_epochs"), spec.asha.get("grace_steps")
        asha = {
            "eta": float(spec.asha.get("eta", 3)),
            "grace": spec.interval(*grace, batch)
            if any(g is not None for g in grace)
            else plan.every,
        }
    return Trial(
        id=f"{plan.recipe}-{plan.dataset}-{sample:03d}-r{restart}",
        recipe=plan.recipe,
        dataset=plan.dataset,
        sample=sample,
        restart=restart,
        seed=seed,
        params=params,
        overrides=overrides,
        steps=plan.steps,
        metrics=plan.metrics,
        n_eval=int(spec.metrics.get("n", 10000)),
        extractor=str(spec.metrics.get("extractor", "auto")),
        during=plan.during_metrics,
        n_during=int((spec.metrics.get("during") or {}).get("n", 1000))
        if plan.during_metrics
        else 0,
        eval_every=plan.every if plan.during_metrics else 0,
        objective=spec.objective,
        asha=asha,
        resources=dict(spec.resources),
    )
