"""LOGAN (Wu et al. 2019, "LOGAN: Latent Optimisation for Generative Adversarial Networks"):
before each D and G update, every latent takes ``latent_steps`` steps along the gradient of the
generator's loss, either plain gradient descent (Eq. 3, ``latent_method='gd'``) or the damped
natural gradient (Eq. 10-11, ``'ngd'``, step 0.9 and damping 5 as in the paper); both players
then train on G(z'). The optimised z' is treated as data (Algorithm 1 without second-order
terms). The paper applies it to BigGAN-deep; here it wraps the DCGAN-sized SNGAN setting
(hinge loss, spectral-norm D) so it runs on a CPU, and ``net`` picks any other family."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from ganarium.hparams import hp, override, positive, whole
from ganarium.models import Batch, LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.techniques.latent_opt import LATENT_METHODS, latent_step
from ganarium.techniques.losses import LOSSES


@register(
    "logan",
    paper="LOGAN: Latent Optimisation for Generative Adversarial Networks",
    year=2019,
    family="regularization",
    data=("unconditional", "labelled"),
    check=LearningCheck(
        **{
            **DIGITS_CHECK,
            "steps": 1000,
            "reason": "1000 steps: at 600, with oneDNN limited to AVX2, seed 1 covered 8 classes",
        }
    ),
)
class LOGAN(AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = override("dcgan")
        d_norm: str = override("spectral")
        loss: str = override("hinge")
        latent_method: str = hp(
            "ngd",
            "gd (plain gradient) or ngd (natural gradient) latent steps",
            choices=LATENT_METHODS,
        )
        latent_steps: int = whole(1, "latent steps before each update (0: plain GAN)", minimum=0)
        latent_step_size: float = positive(0.9, "size of each latent step")
        latent_damping: float = hp(
            5.0,
            "Tikhonov damping of the natural-gradient step",
            test=lambda v: v >= 0,
            rule="the damping must be >= 0",
        )

        def check(self) -> str | None:
            if LOSSES.get(self.loss).relativistic:
                return (
                    "logan's latent steps follow G's loss of the fakes alone: use a loss that "
                    "is not relativistic"
                )
            return super().check()

    def fake_batch(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        y = self.labels_of(batch)
        n = batch["image"].shape[0]
        z = self.latent.sample(n, batch["image"].device)
        if self.hp.latent_steps > 0:
            # the G loss is a batch mean; times n, its gradient is each sample's own
            z = latent_step(
                z,
                lambda zz: n * self.adv.g(self.D(self.G(zz, y), y)),
                step_size=self.hp.latent_step_size,
                method=self.hp.latent_method,
                damping=self.hp.latent_damping,
                steps=self.hp.latent_steps,
            )
        return self.G(z, y), y
