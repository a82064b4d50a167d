"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"): the Wasserstein
critic with a gradient penalty lambda * (||grad C(x_hat)|| - 1)^2 (Eq. 3, lambda = 10),
layer norm instead of batch norm in the critic, Adam(1e-4, 0, 0.9), n_critic = 5 (Alg. 1).
``net='wgan-gp-resnet'`` builds the CIFAR ResNet of the official code (the ``cifar-resnet``
preset)."""

from __future__ import annotations

from torch import Tensor

from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.regularizers import gradient_penalty


@register(
    "wgan-gp",
    paper="Improved Training of Wasserstein GANs",
    year=2017,
    family="loss",
    data=("unconditional", "labelled"),
    check=LearningCheck(**DIGITS_CHECK, slow=True),
)
class WGANGP(AdversarialRecipe):
    defaults = {
        **AdversarialRecipe.defaults,
        "loss": "wasserstein",
        "d_norm": "layer",
        "lr_g": 1e-4,
        "lr_d": 1e-4,
        "betas": (0.0, 0.9),
        "n_critic": 5,
        "gp_weight": 10.0,
    }
    hparam_help = {
        "gp_weight": "lambda of the gradient penalty",
    }

    def d_penalty(self, real: Tensor, fake: Tensor, y: Tensor | None) -> Tensor:
        return self.hp.gp_weight * gradient_penalty(lambda x: self.D(x, y), real, fake)
