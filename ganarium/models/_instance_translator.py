"""What an instance-aware two-domain translator shares (InstaGAN, Mo et al. 2019): batches carry
one mask per instance beside each image (``image``/``mask`` for A, ``image_b``/``mask_b`` for
B; masks (N, K, H, W) in {0, 1}, empty slots all 0), with the K slots read from the data
(``data=instance-scenes``). It gives ``translate_instances(x, masks, direction)`` (images and
masks of any size, checked in one line), ``translate(x, direction, masks=)`` (no masks: the
context alone) and a preview of scene | masks | translation | translated masks.

A subclass says how its net runs on images with masks (``run_instances``).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from ganarium.capabilities.instance_masks import InstanceMasks
from ganarium.data import DataInfo
from ganarium.errors import DataError
from ganarium.models import Batch
from ganarium.models._twodomain import TwoDomainRecipe


def mask_union(masks01: Tensor) -> Tensor:
    """(N, K, H, W) masks in {0, 1} -> (N, 1, H, W) their union as an image in [-1, 1]."""
    return masks01.amax(1, keepdim=True) * 2 - 1


class InstanceTranslatorRecipe(InstanceMasks, TwoDomainRecipe):
    """Two translators and two critics on two-domain data with instance masks; ``self.k`` is
    the number of mask slots the nets were built for."""

    preview_keys: ClassVar[tuple[str, ...]] = ("image", "mask", "image_b", "mask_b")
    k: int

    def build(self, info: DataInfo) -> None:
        self.k = int(info.instances)
        if self.k < 1:
            raise DataError(
                f"{self.name} translates images with instance masks, but {info.name!r} has none: "
                "use data=instance-scenes (batches with 'mask' and 'mask_b')"
            )
        super().build(info)

    def run_instances(self, G: nn.Module, x: Tensor, masks01: Tensor) -> tuple[Tensor, Tensor]:
        """``G`` on images (N, C, H, W) of any size with K' <= k masks in {0, 1} -> (translated
        images, translated masks (N, K', H, W) in [0, 1])."""
        raise NotImplementedError

    def check_instance_inputs(self, x: Tensor, masks: Tensor, direction: str) -> None:
        """One-line refusal of images that are not the source side's or masks that do not fit."""
        want = (self.shape_a if direction == "AtoB" else self.shape_b)[0]
        if (
            x.dim() != 4
            or x.shape[1] != want
            or masks.shape[0] != x.shape[0]
            or masks.shape[-2:] != x.shape[-2:]
        ):
            raise DataError(
                f"{direction} translates (N, {want}, H, W) images with (N, K, H, W) masks, got "
                f"{tuple(x.shape)} and {tuple(masks.shape)}"
            )
        if masks.shape[1] > self.k:
            raise DataError(
                f"this {self.name} was trained with {self.k} instance slots, got {masks.shape[1]} "
                f"masks: pass at most {self.k} (or train with data.instances={masks.shape[1]})"
            )

    @torch.no_grad()
    def translate_instances(
        self, x: Tensor, masks: Tensor, direction: str = "AtoB"
    ) -> tuple[Tensor, Tensor]:
        """Images (N, C, H, W) in [-1, 1] with instance masks (N, K', H, W) in {0, 1} (K' <= k;
        any H, W) -> (translated images, translated masks in [0, 1])."""
        G = self.translator(direction)
        self.check_instance_inputs(x, masks, direction)
        return self.run_instances(G, x.to(self.device), masks.to(self.device).float())

    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "AtoB", masks: Tensor | None = None) -> Tensor:
        """Images (N, C, H, W) -> translations; only the instances in ``masks`` (N, K, H, W)
        in {0, 1} are translated (none when no masks are given: the context alone)."""
        if masks is None:
            masks = torch.zeros(len(x), 1, *x.shape[-2:], device=x.device)
        return self.translate_instances(x, masks, direction)[0]

    def preview_columns(self, examples: Batch, n: int) -> list[Tensor]:
        """Rows of A | its masks | A -> B | the translated masks | B | B -> A."""
        x, a, y, b = (examples[k] for k in self.preview_keys)
        rows = max(1, min(len(x), n // 6))
        x, a, y, b = (t[:rows].to(self.device) for t in (x, a, y, b))
        fake_b, mask_fb = self.translate_instances(x, a, "AtoB")
        fake_a, _ = self.translate_instances(y, b, "BtoA")
        return [x, mask_union(a), fake_b, mask_union(mask_fb), y, fake_a]
