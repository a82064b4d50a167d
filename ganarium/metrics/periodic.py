"""Cheap metrics logged during training (``train.eval_every``): mode statistics on toy data,
domain FID / classes covered on digits. Other data log none (use ``ganarium eval``)."""

from __future__ import annotations

from collections.abc import Callable

from ganarium.data import DataInfo
from ganarium.models import Recipe


def periodic_evaluator(
    info: DataInfo, n: int = 1000
) -> Callable[[Recipe], dict[str, float]] | None:
    from ganarium.runs import generate_batched

    if info.kind == "vector" and "modes" in info.extras:
        from ganarium.metrics.toy2d import toy2d_metrics

        def toy(recipe: Recipe) -> dict[str, float]:
            m = toy2d_metrics(generate_batched(recipe, n), info)
            return {f"eval/{k}": float(v) for k, v in m.items()}

        return toy
    if info.name == "digits":
        from ganarium.metrics.digits import digit_metrics

        def digits(recipe: Recipe) -> dict[str, float]:
            m = digit_metrics(generate_batched(recipe, n))
            keys = ("domain_fid", "domain_kid", "classes_covered", "label_kl")
            return {f"eval/{k}": float(m[k]) for k in keys if k in m}

        return digits
    return None
