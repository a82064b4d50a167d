"""The original GAN (Goodfellow et al. 2014, "Generative Adversarial Nets") with MLP nets,
in its minimax form (Eq. 1) and with the non-saturating generator loss (Sec. 3)."""

from __future__ import annotations

from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe

RING8_CHECK = dict(
    kind="toy-modes",
    data="ring8",
    steps=2000,
    model=dict(g_width=128, d_width=128, z_dim=16),
    train=dict(batch_size=256),
    bars=dict(modes_covered=6, high_quality=0.70),
)


@register(
    "gan",
    paper="Generative Adversarial Nets",
    year=2014,
    family="loss",
    data=("unconditional",),
    loss="minimax",
    check=LearningCheck(**RING8_CHECK, reason=""),
)
@register(
    "gan-ns",
    paper="Generative Adversarial Nets (non-saturating G loss)",
    year=2014,
    family="loss",
    data=("unconditional",),
    loss="non-saturating",
    check=LearningCheck(**RING8_CHECK),
)
class GAN(AdversarialRecipe):
    """MLP generator and discriminator; the loss is the only difference between the two names."""

    defaults = {
        **AdversarialRecipe.defaults,
        "net": "mlp",
        "z_dim": 64,
        "g_norm": "none",
        "d_norm": "none",
    }
