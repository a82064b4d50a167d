"""DRAGAN (Kodali et al. 2017, "On Convergence and Stability of GANs"): the standard GAN loss
plus a gradient penalty on noisy copies of real data (lambda = 10, perturbation 0.5 * std)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from ganarium.hparams import loss_weight, override, positive
from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.techniques.regularizers import dragan_penalty


@register(
    "dragan",
    paper="On Convergence and Stability of GANs",
    year=2017,
    family="loss",
    data=("unconditional",),
    check=LearningCheck(
        **{
            **DIGITS_CHECK,
            "steps": 1500,
            "reason": "1500 steps: at 1200, with oneDNN limited to AVX2, seeds 1 and 2 covered 8 "
            "classes",
        }
    ),
)
class DRAGAN(AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        d_norm: str = override("none")
        gp_weight: float = loss_weight(10.0, "weight of the gradient penalty around real data")
        perturb_scale: float = positive(0.5, "size of the perturbations, times the data's std")

    def d_penalty(self, D: nn.Module, real: Tensor, fake: Tensor, y: Tensor | None) -> Tensor:
        return self.hp.gp_weight * dragan_penalty(lambda x: D(x, y), real, self.hp.perturb_scale)
