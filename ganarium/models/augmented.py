"""Augmentation for small data as a named recipe, so a learning check measures its effect: the
same DCGAN trained with and without it on 500 digits. Every recipe takes the switch
(``model.augment``, see ``ganarium.techniques.augment``)."""

from __future__ import annotations

from ganarium.models import LearningCheck, register
from ganarium.models.dcgan import DCGAN, DIGITS_CHECK

# 500 training digits and a D wide enough to memorise them: G as in the dcgan check, D 128 wide
# without normalisation. Without augmentation its domain FID bottoms out near 5000 steps and
# rises again (seed 0: 24.1 at 5000, 41.0 at 8000; docs/style.md).
FEW_DIGITS_CHECK = dict(
    kind="digits-fid-vs-unaugmented",
    data="digits",
    data_options=dict(size=16, limit=500),
    steps=8000,
    model={**DIGITS_CHECK["model"], "d_width": 128, "d_norm": "none"},
    train=dict(batch_size=64),
    bars=dict(fid_ratio=0.5, classes_covered=9, margin=5),
    slow=True,
)


@register(
    "dcgan-diffaugment",
    paper="Differentiable Augmentation for Data-Efficient GAN Training",
    year=2020,
    family="augmentation",
    augment="diffaugment",
    check=LearningCheck(
        **FEW_DIGITS_CHECK,
        reason="slow (twice 8000 steps: the check trains the same net without augmentation as "
        "its baseline); 500 digits, where an unaugmented D overfits within a CPU budget",
    ),
)
class AugmentedDCGAN(DCGAN):
    """DCGAN (Radford et al. 2016) whose D sees real and fake images through DiffAugment (Zhao et
    al. 2020): colour, translation by up to 1/8 of the image and a cutout of half its side, fresh
    for every image, differentiable so G learns through them."""
