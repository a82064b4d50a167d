"""DRAGAN (Kodali et al. 2017, "On Convergence and Stability of GANs"): the standard GAN loss
plus a gradient penalty on noisy copies of real data (lambda = 10, perturbation 0.5 * std)."""

from __future__ import annotations

from torch import Tensor

from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.regularizers import dragan_penalty


@register(
    "dragan",
    paper="On Convergence and Stability of GANs",
    year=2017,
    family="loss",
    data=("unconditional",),
    check=LearningCheck(**{**DIGITS_CHECK, "steps": 1200}),
)
class DRAGAN(AdversarialRecipe):
    defaults = {
        **AdversarialRecipe.defaults,
        "d_norm": "none",
        "gp_weight": 10.0,
        "perturb_scale": 0.5,
    }
    hparam_help = {
        "gp_weight": "weight of the gradient penalty around real data",
        "perturb_scale": "size of the perturbations, times the data's std",
    }

    def d_penalty(self, real: Tensor, fake: Tensor, y: Tensor | None) -> Tensor:
        return self.hp.gp_weight * dragan_penalty(
            lambda x: self.D(x, y), real, self.hp.perturb_scale
        )
