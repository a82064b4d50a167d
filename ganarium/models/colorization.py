"""Colorization as pix2pix does it (Isola et al. 2017, Sec. 4.6 and the authors' colorization
model), in CIE Lab as Zhang et al. (2016, "Colorful Image Colorization") work: the U-Net sees
the lightness L and predicts the two colour channels ab; the conditional PatchGAN judges
(L, ab) pairs; the loss is pix2pix's cGAN + lambda L1 (lambda = 100) on ab (scaled by 1/110).
The output is the input's L with the predicted ab, converted back to RGB (``nn.color``).
RGB inputs to ``translate`` are reduced to their Lab lightness first.
"""

from __future__ import annotations

from torch import Tensor

from ganarium.errors import DataError
from ganarium.models import Batch, LearningCheck, register
from ganarium.models.pix2pix import PAIRED_REASON, Pix2Pix
from ganarium.nn.color import lightness, net_lab, net_lab_to_rgb, rgb_to_lab


@register(
    "colorization",
    paper="Image-to-Image Translation with Conditional Adversarial Networks (colorization)",
    year=2017,
    family="translation",
    data=("paired",),
    check=LearningCheck(
        kind="translation-paired",
        data="gray2colour",
        data_options=dict(size=16),
        steps=600,
        model=dict(width=32, d_width=32, d_layers=1),
        train=dict(batch_size=32),
        bars=dict(psnr_margin=1.0, colourfulness=0.5),
        reason=PAIRED_REASON.replace("16x16 digits", "16x16 patches of six photos")
        + "; PSNR is judged against the no-colour baseline, colourfulness against the targets'",
    ),
)
class Colorization(Pix2Pix):
    def build_nets(self, info) -> None:
        if self.shape_a[0] != 1 or self.shape_b[0] != 3:
            raise DataError(
                f"colorization maps 1-channel lightness to RGB, but {info.name!r} has "
                f"{self.shape_a[0]} (A) and {self.shape_b[0]} (B) channels: use gray2colour or "
                "an aligned folder of gray | colour pairs with data.channels=3"
            )
        super().build_nets(info)

    def g_channels(self) -> tuple[int, int]:
        return 1, 2  # L -> ab

    def pair(self, batch: Batch) -> tuple[Tensor, Tensor]:
        light, ab = net_lab(batch["image_b"])
        return light, ab

    def as_input(self, x: Tensor, direction: str) -> Tensor:
        return lightness(rgb_to_lab(x)) if x.shape[1] == 3 else x

    def net_output(self, a: Tensor, out: Tensor) -> Tensor:
        return net_lab_to_rgb(a, out)
