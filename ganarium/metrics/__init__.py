"""Metrics: FID, KID, IS, precision/recall, density/coverage, mode statistics, and the project's
own digit classifier as an offline feature extractor.

``METRICS`` names the metric functions (``fid``, ``kid``, ``is``, ``pr``, ``dc``, ``prdc``,
``toy2d``, ``digits``) with their paper and what they read (``input``: features, logits, toy
samples or digit images). Each submodule registers its own entries, and the submodules are
imported on the first lookup only, so ``import ganarium.metrics`` stays light.
"""

from __future__ import annotations

from ganarium.registry import Registry

METRICS: Registry = Registry("metric", package="ganarium.metrics")
