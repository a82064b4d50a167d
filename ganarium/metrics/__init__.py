"""Metrics: FID, KID, IS, precision/recall, density/coverage, mode statistics, and the project's
own digit classifier as an offline feature extractor.

``METRICS`` names the metric functions (``fid``, ``kid``, ``is``, ``pr``, ``dc``, ``prdc``,
``toy2d``, ``digits``) with their paper and what they read (``input``: features, logits, toy
samples or digit images). Each submodule registers its own entries, and the submodules are
imported on the first lookup only, so ``import ganarium.metrics`` stays light.

``DOMAINS`` holds what a kind of data can be measured by besides feature metrics, looked up by
``DataInfo.domain``: mode statistics (``modes``), exact precision (``exact``) and cheap metrics
logged during training (``periodic``), so no caller branches on dataset names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from ganarium.data import DataInfo
from ganarium.registry import Registry

METRICS: Registry = Registry("metric", package="ganarium.metrics")

DomainMetric = Callable[[Tensor, DataInfo], dict[str, float]]


@dataclass(frozen=True)
class Domain:
    """The data-specific metrics of one kind of data (samples (N, ...) in the data's range)."""

    modes: DomainMetric | None = None  # the 'modes' group of `ganarium eval`
    periodic: DomainMetric | None = None  # logged as eval/<key> every train.eval_every steps
    exact: DomainMetric | None = None  # the 'exact' group: exact precision on a known manifold
    # samples -> {class name: count} read by the data's classifier (the report's histogram)
    histogram: Callable[[Tensor, DataInfo], dict[str, int]] | None = None


DOMAINS: Registry[Domain] = Registry("data domain", package="ganarium.metrics")


def domain_of(info: DataInfo) -> Domain:
    """The registered metrics of ``info.domain`` (none when the data names no domain)."""
    return DOMAINS.get(info.domain) if info.domain else Domain()
