"""LOGAN (Wu et al. 2019, "LOGAN: Latent Optimisation for Generative Adversarial Networks"):
before each D and G update, every latent takes ``latent_steps`` steps along the gradient of the
generator's loss, either plain gradient descent (Eq. 3, ``latent_method='gd'``) or the damped
natural gradient (Eq. 10-11, ``'ngd'``, step 0.9 and damping 5 as in the paper); both players
then train on G(z'). The optimised z' is treated as data (Algorithm 1 without second-order
terms). The paper applies it to BigGAN-deep; here it wraps the DCGAN-sized SNGAN setting
(hinge loss, spectral-norm D) so it runs on a CPU, and ``net`` picks any other family."""

from __future__ import annotations

from torch import Tensor

from ganarium.latent_opt import latent_step
from ganarium.models import Batch, LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK


@register(
    "logan",
    paper="LOGAN: Latent Optimisation for Generative Adversarial Networks",
    year=2019,
    family="regularization",
    data=("unconditional", "labelled"),
    check=LearningCheck(**DIGITS_CHECK),
)
class LOGAN(AdversarialRecipe):
    defaults = {
        **AdversarialRecipe.defaults,
        "net": "dcgan",
        "loss": "hinge",
        "d_norm": "spectral",
        "latent_method": "ngd",
        "latent_steps": 1,
        "latent_step_size": 0.9,
        "latent_damping": 5.0,
    }
    hparam_help = {
        "latent_damping": "Tikhonov damping of the natural-gradient step",
        "latent_method": "gd (plain gradient) or ngd (natural gradient) latent steps",
        "latent_step_size": "size of each latent step",
        "latent_steps": "latent steps before each update (0: plain GAN)",
    }

    def fake_batch(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        y = self.labels_of(batch)
        n = batch["image"].shape[0]
        z = self.G.sample_z(n, batch["image"].device)
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
