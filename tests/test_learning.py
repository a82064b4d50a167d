"""Every registered recipe's learning check, picked up from the registry: it trains on small data
on the CPU and must beat its untrained model by the bars its registration states."""

import pytest

from ganarium.checks import CHECK_KINDS, learning_check, run_check
from ganarium.models import RECIPES

# Checks that fail on the package set installed on 2026-12-06 (torch 2.14.1, numpy 2.4.6,
# mlxtend 0.25.0, scipy 1.17.1) although they passed in CI before, with the same code (re-run at
# the previous commit a691f6a: the same failure). Shown as xfail, not hidden, until the cause
# (a changed dependency: the dcgan check's FID on one thread moved from 75.026 to 72.551 too) is
# found and the check fixed.
KNOWN_FAILING = {
    "gan": "MM GAN collapses to one class on today's packages: FID 414 -> 334, bar 311 "
    "(recorded 250.9 with 3 classes); lr 1e-4 and 1000 steps fail too",
}


def _param(name: str):
    marks = [pytest.mark.slow] if learning_check(name).slow else []
    if name in KNOWN_FAILING:
        marks.append(pytest.mark.xfail(reason=KNOWN_FAILING[name], strict=False))
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_param(n) for n in RECIPES.names()])
def test_recipe_learns(name):
    result = run_check(name)
    assert result.passed, result.summary()
    # the check can fail: the untrained model does not pass its own bars
    judge = CHECK_KINDS.get(result.kind).judge
    assert judge(result.before, result.before, result.bars), f"{name}: untrained passes its check"
