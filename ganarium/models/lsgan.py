"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks"): least-squares loss
with a=0, b=c=1 (Eq. 9) on DCGAN nets, Adam(2e-4, beta1=0.5). ``net='lsgan-lsun'`` builds the
paper's 112x112 LSUN nets (the ``lsun`` preset)."""

from __future__ import annotations

from ganarium.models import LearningCheck, register
from ganarium.models.dcgan import DIGITS_CHECK, LatentChoice


@register(
    "lsgan",
    paper="Least Squares Generative Adversarial Networks",
    year=2017,
    family="loss",
    data=("unconditional",),
    loss="least-squares",
    check=LearningCheck(**DIGITS_CHECK),
)
class LSGAN(LatentChoice):
    pass
