"""The check kind of augmentation for small data (issue 12):

- ``digits-fid-vs-unaugmented``: the digits bars (domain FID against the untrained model,
  classes covered), and a domain FID at least ``margin`` below the same recipe and check
  trained without augmentation (``augment=none``) at equal steps and seed. The check's data is
  a few hundred digits, where the unaugmented discriminator overfits (Zhao et al. 2020;
  Karras et al. 2020).
"""

from __future__ import annotations

from ganarium.checks import CHECK_KINDS, CheckKind, ablation_scores
from ganarium.checks.core import _digits_describe, _digits_judge, _digits_measure
from ganarium.data import DataInfo
from ganarium.models import LearningCheck, Recipe


def _measure(recipe: Recipe, info: DataInfo, check: LearningCheck, history) -> dict[str, float]:
    out = _digits_measure(recipe, info, check)
    without = ablation_scores(
        recipe, check, {"augment": "none"}, lambda net: _digits_measure(net, info, check)
    )
    out["unaugmented_fid"] = without["domain_fid"]
    out["unaugmented_classes"] = without["classes_covered"]
    return out


def _judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    need = after["unaugmented_fid"] - bars["margin"]
    if after["domain_fid"] > need:
        fails.append(
            f"domain FID {after['domain_fid']:.3g} > unaugmented {after['unaugmented_fid']:.3g} "
            f"- {bars['margin']:.0f}"
        )
    return fails


def _describe(b) -> str:
    return (
        f"domain FID <= unaugmented - {b['margin']:.0f} at equal steps and seed, "
        + _digits_describe(b)
    )


CHECK_KINDS.add("digits-fid-vs-unaugmented", CheckKind(_measure, _judge, _describe))
