"""A Laplacian pyramid (LAPGAN): ``pyramid_samples(n)`` gives each level's samples, coarse to fine."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ganarium.capabilities import Capability, register_capability
from ganarium.capabilities._probe import assert_samples


class Pyramid:
    """Mixin: a recipe offers pyramid_samples(n), the samples at each level, coarse to fine."""

    def pyramid_samples(self, n: int) -> list[Tensor]:
        raise NotImplementedError


@register_capability
class PyramidCapability(Capability):
    name = "pyramid"
    mixin = Pyramid
    doc = "pyramid_samples(n) gives each level's samples, coarse to fine"

    def probe(self, recipe: Any) -> None:
        """Two or more levels of n samples each, growing in size, the last at the data's."""
        levels = recipe.pyramid_samples(3)
        assert len(levels) >= 2, f"a pyramid of {len(levels)} level"
        sizes = [lv.shape[-1] for lv in levels]
        assert sizes == sorted(sizes) and sizes[0] < sizes[-1], f"level sizes {sizes}"
        assert all(len(lv) == 3 for lv in levels), "levels of different sample counts"
        assert_samples(levels[-1], recipe, 3, "the finest level", in_range=False)
