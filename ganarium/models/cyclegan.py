"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks"): G: A -> B and F: B -> A trained on unpaired images with

    L = L_LSGAN(G, D_B) + L_LSGAN(F, D_A) + lambda L_cyc(G, F) + lambda_idt lambda L_idt   (Eq. 3)

L_cyc = E ||F(G(a)) - a||_1 + E ||G(F(b)) - b||_1 (Eq. 2), the least-squares adversarial loss
of Sec. 4 (G minimises E (D(G(a)) - 1)^2, D minimises 1/2 [E (D(b) - 1)^2 + E D(G(a))^2]),
lambda = 10 and the identity loss E ||G(b) - b||_1 + E ||F(a) - a||_1 at 0.5 lambda (Sec. 5.2,
used when both sides have the same channels). D is updated from a history of the last 50
generated images (the pool, checkpointed with the run); Adam(2e-4, beta1 0.5), learning rates
constant for the first half of training and then linearly decayed to 0. Nets: the 6/9-block
ResNet translator and 70x70 PatchGAN critics, both with instance norm (``norm_affine=False``:
as the authors' code, without a learned scale and shift, convolutions biased instead).

``csgan`` (Kancharagunta & Dubey 2019) is this recipe plus one term (``models/csgan.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.hparams import loss_weight, switch, whole
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models._twodomain import HALF_THEN_LINEAR, TwoDomainRecipe
from ganarium.nets.patchgan import PatchGANDiscriminator
from ganarium.nets.translator import ResnetTranslator
from ganarium.techniques.losses import least_squares_d

# 16x16 digits <-> thick-stroke digits; small nets so the check runs in about a minute on one
# CPU thread (the paper's widths are 64, 9 blocks, 3 critic layers at 256 px)
UNPAIRED_CHECK = dict(
    kind="unpaired-translation",
    data="digits-thick",
    data_options=dict(size=16),
    model=dict(g_width=16, g_blocks=2, d_width=16, d_layers=2),
    train=dict(batch_size=16),
    bars=dict(domain_b=0.9, label_kept=0.8, cycle_l1=0.15, margin=0.2),
)


@register(
    "cyclegan",
    paper="Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    year=2017,
    family="translation",
    data=("unpaired",),
    check=LearningCheck(**UNPAIRED_CHECK, steps=400),
)
class CycleGAN(TwoDomainRecipe):
    # Sec. 4: constant for the first half of training, then linearly to 0
    train_defaults: ClassVar[dict[str, Any]] = HALF_THEN_LINEAR

    @dataclass
    class Hparams(TwoDomainRecipe.Hparams):
        g_blocks: int = whole(
            9,
            "residual blocks of the ResNet translator (paper: 6 at 128 px, 9 at 256 px)",
            minimum=0,
        )
        g_downsamplings: int = whole(
            2, "stride-2 stages of the ResNet translator (paper: 2)", minimum=0
        )
        lambda_cycle: float = loss_weight(
            10.0, "weight of the cycle-consistency L1 loss (paper: 10)"
        )
        lambda_identity: float = loss_weight(
            0.5, "weight of the identity loss relative to lambda_cycle (paper: 0.5)"
        )
        pool_size: int = whole(
            50, "generated images in each history pool D learns from (paper: 50; 0: off)", minimum=0
        )
        norm_affine: bool = switch(
            True,
            "learned scale and shift in the norms of G and D (False: the authors' code, plain instance norm with biased convolutions)",
        )

    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.build_pools(self.hp.pool_size)

    def make_translator(self, c_in: int, c_out: int) -> nn.Module:
        hp = self.hp
        return ResnetTranslator(
            c_in,
            c_out,
            hp.g_width,
            hp.g_blocks,
            hp.g_downsamplings,
            hp.g_norm,
            affine=hp.norm_affine,
        )

    def make_critic(self, channels: int) -> nn.Module:
        hp = self.hp
        return PatchGANDiscriminator(
            channels,
            width=hp.d_width,
            layers=hp.d_layers,
            norm=hp.d_norm,
            affine=hp.norm_affine,
        )

    def cycle_terms(
        self, a: Tensor, b: Tensor, fake_a: Tensor, fake_b: Tensor, rec_a: Tensor, rec_b: Tensor
    ) -> dict[str, Tensor]:
        """Weighted terms added to G's loss besides the adversarial ones, by name."""
        lam = self.hp.lambda_cycle
        terms = {"cycle": lam * (F.l1_loss(rec_a, a) + F.l1_loss(rec_b, b))}
        if self.hp.lambda_identity > 0 and a.shape[1] == b.shape[1]:
            idt = F.l1_loss(self.G_AB(b), b) + F.l1_loss(self.G_BA(a), a)
            terms["identity"] = lam * self.hp.lambda_identity * idt
        return terms

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        a, b = batch["image"], batch["image_b"]
        fake_b, fake_a = self.G_AB(a), self.G_BA(b)
        rec_a, rec_b = self.G_BA(fake_b), self.G_AB(fake_a)
        adv_b = (self.critic(self.D_B, fake_b) - 1).pow(2).mean()
        adv_a = (self.critic(self.D_A, fake_a) - 1).pow(2).mean()
        terms = self.cycle_terms(a, b, fake_a, fake_b, rec_a, rec_b)
        ctx.shared["fakes"] = (fake_a.detach(), fake_b.detach())
        logs = {"adv_a": adv_a.detach(), "adv_b": adv_b.detach()}
        logs.update({k: v.detach() for k, v in terms.items()})
        return adv_a + adv_b + sum(terms.values()), logs

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake_a, fake_b = ctx.shared["fakes"]
        fake_a, fake_b = self.pool_a.query(fake_a), self.pool_b.query(fake_b)
        real_a, real_b = (
            self.critic(self.D_A, batch["image"]),
            self.critic(self.D_B, batch["image_b"]),
        )
        self.augmenter.observe(real_b.detach())
        d_a = least_squares_d(real_a, self.critic(self.D_A, fake_a))
        d_b = least_squares_d(real_b, self.critic(self.D_B, fake_b))
        logs = {"d_a": d_a.detach(), "d_b": d_b.detach(), "real_b": real_b.detach().mean()}
        return d_a + d_b, logs
