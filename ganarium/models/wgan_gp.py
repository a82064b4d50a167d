"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"): the Wasserstein
critic with a gradient penalty lambda * (||grad C(x_hat)|| - 1)^2 (Eq. 3, lambda = 10),
layer norm instead of batch norm in the critic, Adam(1e-4, 0, 0.9), n_critic = 5 (Alg. 1).
``net='wgan-gp-resnet'`` builds the CIFAR ResNet of the official code (the ``cifar-resnet``
preset)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from ganarium.hparams import loss_weight, override
from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.techniques.regularizers import gradient_penalty


@register(
    "wgan-gp",
    paper="Improved Training of Wasserstein GANs",
    year=2017,
    family="loss",
    data=("unconditional", "labelled"),
    check=LearningCheck(**DIGITS_CHECK, slow=True),
)
class WGANGP(AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        d_norm: str = override("layer")
        loss: str = override("wasserstein")
        lr_g: float = override(0.0001)
        lr_d: float = override(0.0001)
        betas: tuple[float, float] = override((0.0, 0.9))
        n_critic: int = override(5)
        gp_weight: float = loss_weight(10.0, "lambda of the gradient penalty")

    def d_penalty(self, D: nn.Module, real: Tensor, fake: Tensor, y: Tensor | None) -> Tensor:
        return self.hp.gp_weight * gradient_penalty(lambda x: D(x, y), real, fake)
