"""Periodic evaluation (``train.eval_every``): the evaluators' figures, computed by the
writing process outside the training RNG stream and handed to the callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ganarium.recipe import Recipe

if TYPE_CHECKING:
    from ganarium.training.trainer import Trainer

Evaluator = Callable[[Recipe], dict[str, float]]


def evaluate(trainer: Trainer) -> dict[str, float]:
    """``trainer.evaluators``' figures (rank 0's under torchrun; other processes get none),
    after which every callback's ``on_evaluate`` sees them."""
    out: dict[str, float] = {}
    if not trainer.strategy.is_writer:
        return out
    with trainer.strategy.fork_rng():
        for ev in trainer.evaluators:
            out.update(ev(trainer.recipe))
    for cb in trainer.callbacks:
        cb.on_evaluate(trainer, out)
    return out
