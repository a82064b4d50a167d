"""O-GAN (Su 2019, "O-GAN: Extremely Concise Approach for Auto-Encoding Generative Adversarial
Networks"): D's last layer outputs a z_dim vector e(x) instead of one logit, D's score is its
mean, D(x) = avg(e(x)), and both players add a correlation term that makes e an encoder:

    min_D  E f(-D(x)) + E f(D(G(z))) - lambda E rho(z, e(G(z)))
    min_G  E f(-D(G(z))) - lambda E rho(z, e(G(z)))

with f = softplus and rho the Pearson correlation across the latent's dimensions (Sec. 3,
Eq. 8-9, lambda = 0.5). rho is invariant to e's scale and shift, so ``encode`` returns e(x)
standardised per sample, which ``reconstruct`` decodes with G: an encoder for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.encode import Encoder
from ganarium.data import DataInfo
from ganarium.hparams import loss_weight
from ganarium.models import (
    Batch,
    LearningCheck,
    StepContext,
    StepOutput,
    eval_mode,
    register,
)
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.bigan import PROBE_CHECK
from ganarium.nn.norms import sn


def standardise(v: Tensor) -> Tensor:
    """Each row of v (B, D) shifted to mean 0 and scaled to unit standard deviation."""
    v = v - v.mean(1, keepdim=True)
    return v / v.pow(2).mean(1, keepdim=True).add(1e-8).sqrt()


def correlation(a: Tensor, b: Tensor) -> Tensor:
    """Pearson correlation of each row pair of a, b (B, D) across the D dimensions. (B,)"""
    return (standardise(a) * standardise(b)).mean(1)


@register(
    "ogan",
    paper="O-GAN: Extremely Concise Approach for Auto-Encoding Generative Adversarial Networks",
    year=2019,
    family="representation",
    data=("unconditional",),
    check=LearningCheck(**PROBE_CHECK),
)
class OGAN(Encoder, AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        correlation_weight: float = loss_weight(
            0.5, "lambda of the correlation term rho(z, e(G(z)))"
        )

        def check(self) -> str | None:
            if self.conditional or self.loss != "non-saturating":
                return "ogan is unconditional with its softplus loss: drop model.conditional/loss"
            return super().check()

    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.D.head = sn(nn.Linear(self.D.feature_dim, self.hp.z_dim), self.hp.d_norm == "spectral")

    def embedding(self, x: Tensor) -> Tensor:
        """e(x) (B, z_dim), D's last layer."""
        return self.D.head(self.D.features(self.augmenter(x)))

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        with torch.no_grad():
            z = self.latent.sample(len(real), real.device)
            fake = self.G(z)
        e_real, e_fake = self.embedding(real), self.embedding(fake)
        d_real, d_fake = e_real.mean(1), e_fake.mean(1)
        self.augmenter.observe(d_real.detach())
        rho = correlation(z, e_fake).mean()
        loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        return loss - self.hp.correlation_weight * rho, {"rho": rho.detach()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        z = self.latent.sample(len(batch["image"]), batch["image"].device)
        e_fake = self.embedding(self.G(z))
        rho = correlation(z, e_fake).mean()
        return F.softplus(-e_fake.mean(1)).mean() - self.hp.correlation_weight * rho, {}

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """e(x) standardised per sample (B, z_dim): the latent G(z) would need to look like x."""
        with eval_mode(self.D):
            return standardise(self.D.head(self.D.features(x.to(self.device))))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.generate(len(x), z=self.encode(x))
