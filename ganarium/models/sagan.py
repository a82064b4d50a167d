"""SAGAN (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks"): self-attention
blocks (Eq. 1-3) in G and D, spectral norm in both, the hinge loss (Eq. 4), and the two
time-scale update rule: Adam(lr_D = 4e-4, lr_G = 1e-4, betas (0, 0.9)), one D step per G step.
``conditional=True`` adds conditional BN in G and a projection discriminator, as in the paper's
ImageNet model."""

from __future__ import annotations

from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK


@register(
    "sagan",
    paper="Self-Attention Generative Adversarial Networks",
    year=2019,
    family="architecture",
    data=("unconditional", "labelled"),
    check=LearningCheck(
        **{**DIGITS_CHECK, "model": {**DIGITS_CHECK["model"], "lr_g": 2e-4}},
        reason="lr_G 2e-4 (TTUR ratio 2, not 4): at the paper's 1e-4 the 600-step CPU check "
        "covers only 4-6 classes",
    ),
)
class SAGAN(AdversarialRecipe):
    defaults = {
        **AdversarialRecipe.defaults,
        "net": "sagan",
        "z_dim": 128,
        "g_norm": "batch",
        "d_norm": "spectral",
        "g_cond": "cbn",
        "d_cond": "projection",
        "loss": "hinge",
        "lr_g": 1e-4,
        "lr_d": 4e-4,
        "betas": (0.0, 0.9),
    }
