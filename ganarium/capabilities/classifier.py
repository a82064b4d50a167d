"""A trained classifier: ``classifier()``; ``make_classifier()`` a fresh one of the same
architecture and ``classifier_optimizer(params)`` how it is optimised (for the baseline)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganarium.capabilities import Capability, register_capability
from ganarium.capabilities._probe import real_like


class Classifier:
    """Mixin: a recipe offers classifier() is a trained K-class classifier."""

    def classifier(self) -> nn.Module:
        raise NotImplementedError

    def make_classifier(self) -> nn.Module:
        raise NotImplementedError

    def classifier_optimizer(self, params: Any) -> torch.optim.Optimizer:
        raise NotImplementedError


@register_capability
class ClassifierCapability(Capability):
    name = "classifier"
    mixin = Classifier
    empty = False
    doc = "classifier() is a trained K-class classifier"

    def probe(self, recipe: Any) -> None:
        x, k = real_like(recipe), recipe.info.num_classes
        with torch.no_grad():
            logits = recipe.classifier().eval()(x)
        assert logits.shape == (3, k) and torch.isfinite(logits).all(), "classifier()(x)"
