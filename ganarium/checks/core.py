"""The check kinds of the loss family: modes on toy 2-D data, domain FID and classes on digits,
and requested-class accuracy for conditional recipes."""

from __future__ import annotations

import torch

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.data import DataInfo
from ganarium.models import LearningCheck, Recipe
from ganarium.recipe import generate_batched

N_TOY = 2500
N_DIGITS = 1000


def _toy_measure(recipe: Recipe, info: DataInfo, check: LearningCheck, history) -> dict[str, float]:
    from ganarium.metrics.toy2d import toy2d_metrics

    m = toy2d_metrics(generate_batched(recipe, N_TOY), info)
    return {k: float(m[k]) for k in ("modes_covered", "high_quality", "mode_kl")}


def _toy_judge(before, after, bars) -> list[str]:
    fails = []
    if after["modes_covered"] < bars["modes_covered"]:
        fails.append(f"modes covered {after['modes_covered']:.0f} < {bars['modes_covered']:.0f}")
    if after["high_quality"] < bars["high_quality"]:
        fails.append(
            f"high-quality fraction {after['high_quality']:.2f} < {bars['high_quality']:.2f}"
        )
    return fails


CHECK_KINDS.add(
    "toy-modes",
    CheckKind(
        _toy_measure,
        _toy_judge,
        lambda b: f">= {b['modes_covered']:.0f} modes, >= {b['high_quality']:.0%} high-quality",
    ),
)


def digit_scores(x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, float]:
    """Domain FID and classes covered of digit samples, plus the requested-class accuracy when
    the ``labels`` they were generated for are given."""
    from ganarium.metrics.digits import digit_metrics

    m = digit_metrics(x, labels)
    keys = ["domain_fid", "classes_covered"] + (["class_accuracy"] if labels is not None else [])
    return {k: float(m[k]) for k in keys}


def _digits_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history=()
) -> dict[str, float]:
    labels = None
    if recipe.capabilities().conditional:
        labels = torch.arange(N_DIGITS) % info.num_classes
        x = generate_batched(recipe, N_DIGITS, labels=labels)
    else:
        x = generate_batched(recipe, N_DIGITS)
    return digit_scores(x, labels)


def _digits_judge(before, after, bars) -> list[str]:
    fails = []
    limit = bars["fid_ratio"] * before["domain_fid"]
    if after["domain_fid"] > limit:
        fails.append(
            f"domain FID {after['domain_fid']:.3g} > {bars['fid_ratio']} x untrained ({limit:.3g})"
        )
    if "classes_covered" in bars and after["classes_covered"] < bars["classes_covered"]:
        fails.append(
            f"classes covered {after['classes_covered']:.0f} < {bars['classes_covered']:.0f}"
        )
    if "class_accuracy" in bars and after.get("class_accuracy", 0.0) < bars["class_accuracy"]:
        fails.append(
            f"requested-class accuracy {after.get('class_accuracy', 0.0):.2f} < {bars['class_accuracy']:.2f}"
        )
    return fails


def _digits_describe(b) -> str:
    parts = [f"domain FID <= {b['fid_ratio']} x untrained"]
    if "classes_covered" in b:
        parts.append(f">= {b['classes_covered']:.0f}/10 classes")
    if "class_accuracy" in b:
        parts.append(f"class accuracy >= {b['class_accuracy']:.0%}")
    return ", ".join(parts)


CHECK_KINDS.add("digits-fid", CheckKind(_digits_measure, _digits_judge, _digits_describe))
