"""BigBiGAN (Donahue & Simonyan 2019, "Large Scale Adversarial Representation Learning"): BiGAN
with a stochastic encoder, E(x) = N(mu(x), sigma(x)) sampled by reparameterisation, and a joint
discriminator with unary terms: s_x(x) on F(x), s_z(z) on H(z) and s_xz on J(F(x), H(z))
(Sec. 2, Eq. 1-4). Each score gets its own hinge loss in D's objective,

    l_D = E_{(x,z)} sum_{k in x, z, xz} h(y s_k),   h(t) = max(0, 1 - t),

with y = +1 on encoder pairs (x, E(x)) and -1 on generator pairs (G(z), z), while E and G
minimise l_EG = E_{(x,z)} y (s_x + s_z + s_xz). The unary x term is what keeps samples good
(the paper's ablation), the z term the encoder's distribution near the prior. ``encode``
returns the posterior mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.hparams import loss_weight, override
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models.bigan import PROBE_CHECK, BiGAN
from ganarium.nets.encoders import gaussian_sample


@register(
    "bigbigan",
    paper="Large Scale Adversarial Representation Learning",
    year=2019,
    family="representation",
    data=("unconditional",),
    check=LearningCheck(**PROBE_CHECK, slow=True),
)
class BigBiGAN(BiGAN):
    @dataclass
    class Hparams(BiGAN.Hparams):
        loss: str = override("hinge")
        unary_weight: float = loss_weight(
            1.0, "weight of the unary s_x and s_z terms (0: BiGAN's joint term)"
        )

        def check(self) -> str | None:
            if self.loss != "hinge":
                return "bigbigan's scores are trained with hinge losses: drop model.loss"
            return super().check()

    def encoder_out_dim(self) -> int:
        return 2 * self.hp.z_dim  # mean and log-variance

    def encoder_latent(self, x: Tensor) -> Tensor:
        return gaussian_sample(self.E(x))[0]

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        with torch.no_grad():
            enc, gen = self.pairs(batch)
        w = self.hp.unary_weight
        s_enc, s_gen = self.scores(enc), self.scores(gen)
        self.augmenter.observe(s_enc[0].detach())
        terms = [F.relu(1 - s).mean() + F.relu(1 + t).mean() for s, t in zip(s_enc, s_gen)]
        loss = terms[0] + w * (terms[1] + terms[2])
        names = ("joint", "unary_x", "unary_z")
        return loss, {k: t.detach() for k, t in zip(names, terms)}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        enc, gen = self.pairs(batch)
        w = self.hp.unary_weight
        s_enc, s_gen = self.scores(enc), self.scores(gen)
        total = lambda s: s[0] + w * (s[1] + s[2])  # noqa: E731
        return total(s_enc).mean() - total(s_gen).mean(), {}
