"""cGAN with a projection discriminator (Miyato & Koyama 2018, "cGANs with Projection
Discriminator"): D(x, y) = psi(phi(x)) + embed(y)^T phi(x) (Eq. 3), with conditional batch norm
in the generator, hinge loss and spectral norm in D as in the paper's experiments."""

from __future__ import annotations

from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.cgan import CONDITIONAL_CHECK


@register(
    "cgan-projection",
    paper="cGANs with Projection Discriminator",
    year=2018,
    family="conditional",
    data=("labelled",),
    check=LearningCheck(**CONDITIONAL_CHECK),
)
class CGANProjection(AdversarialRecipe):
    requires_labels = True
    defaults = {
        **AdversarialRecipe.defaults,
        "net": "cond-dcgan",
        "conditional": True,
        "g_cond": "cbn",
        "d_cond": "projection",
        "d_norm": "spectral",
        "loss": "hinge",
    }
