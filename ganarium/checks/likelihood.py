"""Check kinds of the likelihood baselines (VAE, DRAW; issue 13):

- ``elbo-fid``: the test ELBO (nats per image, mean over the digits test split at the check's
  size, one z per image) must beat the untrained model's by ``elbo_margin`` nats, and samples
  must reach the digits bars (domain FID <= ``fid_ratio`` x untrained; classes covered when
  the bars name it), measured exactly as for the GANs.
"""

from __future__ import annotations

import torch

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.checks.conditional import _test_split
from ganarium.checks.core import _digits_describe, _digits_judge, _digits_measure
from ganarium.data import DataInfo
from ganarium.models import LearningCheck, Recipe

BATCH = 250


def test_elbo(recipe: Recipe, check: LearningCheck) -> float:
    """Mean ELBO (nats) of the test split under ``recipe.evidence_lower_bound``."""
    recipe.require("likelihood")
    x, _ = _test_split(check)
    values = [recipe.evidence_lower_bound(x[i : i + BATCH]) for i in range(0, len(x), BATCH)]
    return float(torch.cat(values).mean())


def _elbo_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    return {"test_elbo": test_elbo(recipe, check), **_digits_measure(recipe, info, check)}


def _elbo_judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    need = before["test_elbo"] + bars["elbo_margin"]
    if after["test_elbo"] < need:
        fails.append(
            f"test ELBO {after['test_elbo']:.1f} < untrained {before['test_elbo']:.1f} + "
            f"{bars['elbo_margin']:.0f} nats"
        )
    return fails


CHECK_KINDS.add(
    "elbo-fid",
    CheckKind(
        _elbo_measure,
        _elbo_judge,
        lambda b: f"test ELBO >= untrained + {b['elbo_margin']:.0f} nats, " + _digits_describe(b),
    ),
)
