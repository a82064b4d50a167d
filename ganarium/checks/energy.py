"""Check kinds of the energy family: BEGAN's convergence measure must fall during training
(its mean over the first quarter of the logged steps above its mean over the last quarter; the
check logs every step), besides the digits bars (domain FID, classes covered)."""

from __future__ import annotations

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.checks.core import _digits_describe, _digits_judge, _digits_measure
from ganarium.data import DataInfo
from ganarium.models import LearningCheck, Recipe


def _convergence_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    m = _digits_measure(recipe, info, check)
    series = [r["M_global"] for r in history if "M_global" in r]
    q = len(series) // 4
    if q > 0:
        m["M_global_first_quarter"] = sum(series[:q]) / q
        m["M_global_last_quarter"] = sum(series[-q:]) / q
    return m


def _convergence_judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    first, last = after.get("M_global_first_quarter"), after.get("M_global_last_quarter")
    if first is None or last is None:
        fails.append("no M_global was recorded during training")
    elif not last < first:
        fails.append(f"M_global did not fall: first quarter {first:.3g} <= last quarter {last:.3g}")
    return fails


CHECK_KINDS.add(
    "began-convergence",
    CheckKind(
        _convergence_measure,
        _convergence_judge,
        lambda b: _digits_describe(b) + ", M_global falls (first-quarter mean > last-quarter mean)",
    ),
)
