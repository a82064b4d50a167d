"""Cheap metrics logged during training (``train.eval_every``): whatever the data's domain
(``DataInfo.domain``) registers as ``periodic`` (mode statistics on toy data, domain FID and
classes covered on digits). Other data log none (use ``ganarium eval``), and neither do
translators, which have no noise to sample (``ganarium eval`` scores their held-out pairs)."""

from __future__ import annotations

from collections.abc import Callable

from ganarium.data import DataInfo
from ganarium.metrics import domain_of
from ganarium.recipe import Recipe, generate_batched


def periodic_evaluator(
    info: DataInfo, n: int = 1000
) -> Callable[[Recipe], dict[str, float]] | None:
    measure = domain_of(info).periodic
    if measure is None:
        return None

    def evaluate(recipe: Recipe) -> dict[str, float]:
        if recipe.capabilities().translate:
            return {}
        return {f"eval/{k}": v for k, v in measure(generate_batched(recipe, n), info).items()}

    return evaluate
