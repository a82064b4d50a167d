"""DCGAN (Radford et al. 2016, "Unsupervised Representation Learning with Deep Convolutional
GANs"): strided convs, batch norm in both nets, Adam(2e-4, beta1=0.5), z of 100."""

from __future__ import annotations

from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe

DIGITS_CHECK = dict(
    kind="digits-fid",
    data="digits",
    data_options=dict(size=16),
    steps=600,
    model=dict(g_width=32, d_width=32, z_dim=32),
    train=dict(batch_size=64),
    bars=dict(fid_ratio=0.5, classes_covered=9),
)


@register(
    "dcgan",
    paper="Unsupervised Representation Learning with Deep Convolutional GANs",
    year=2016,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(**DIGITS_CHECK),
)
class DCGAN(AdversarialRecipe):
    defaults = {**AdversarialRecipe.defaults, "net": "dcgan"}
