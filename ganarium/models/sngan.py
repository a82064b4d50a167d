"""SNGAN (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks"):
hinge loss, spectral norm on every discriminator layer. ``sngan`` uses DCGAN-sized nets with
Adam(2e-4, 0.5, 0.999) and n_dis = 1 (the paper's setting C); ``sngan-resnet`` the ResNet nets
with Adam(2e-4, 0, 0.9) and n_dis = 5 (its ResNet setting). The paper's nets are options:
``net='sngan-cnn'`` (the standard CNN of Table 3) and ``net='sngan-resnet'`` (the ResNets per
resolution); the presets ``cifar`` and ``stl-48`` of both recipes set them."""

from __future__ import annotations

from dataclasses import dataclass

from ganarium.hparams import override
from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK


@register(
    "sngan",
    paper="Spectral Normalization for Generative Adversarial Networks",
    year=2018,
    family="normalization",
    data=("unconditional", "labelled"),
    check=LearningCheck(
        **{**DIGITS_CHECK, "steps": 1000},
        reason="1000 steps: at the digit checks' 600 seed 1 covered 8 classes (bar 9); at 1000 "
        "seeds 0 / 1 / 2 cover 9 / 10 / 9",
    ),
)
@register(
    "sngan-resnet",
    paper="Spectral Normalization for GANs (ResNet nets)",
    year=2018,
    family="normalization",
    data=("unconditional", "labelled"),
    net="resnet",
    z_dim=128,
    betas=(0.0, 0.9),
    n_critic=5,
    # width 16 and 400 steps: the ResNet pair with n_dis = 5 costs ~10x a DCGAN step on the CPU
    check=LearningCheck(
        **{**DIGITS_CHECK, "steps": 400, "model": dict(g_width=16, d_width=16, z_dim=32)}, slow=True
    ),
)
class SNGAN(AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        d_norm: str = override("spectral")
        loss: str = override("hinge")
