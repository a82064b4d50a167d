"""Every registered recipe's learning check, picked up from the registry: it trains on small data
on the CPU and must beat its untrained model by the bars its registration states."""

import pytest

from ganarium.checks import learning_check, run_check
from ganarium.models import RECIPES


def _param(name: str):
    marks = [pytest.mark.slow] if learning_check(name).slow else []
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_param(n) for n in RECIPES.names()])
def test_recipe_learns(name):
    result = run_check(name)
    assert result.passed, result.summary()
    assert result.after != result.before
