"""U-Net GAN (Schönfeld et al. 2020, "A U-Net Based Discriminator for Generative Adversarial
Networks"): a U-Net discriminator judges images globally (encoder) and per pixel (decoder),
L_D = L_D^enc + L_D^dec and L_G = -E[log D_enc(G(z)) + mean_ij log D_dec(G(z))_ij] (Eq. 2-4,
non-saturating). With probability ``cutmix_prob`` a D step also sees CutMix blends of real and
fake images: the encoder must call them fake, the decoder must find the real pixels (target M),
and the decoder's output must be consistent with mixing (Eq. 5-7, ``ganarium.techniques.consistency``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.hparams import fraction, hp, loss_weight, override
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.nets.unet_d import UNetDiscriminator
from ganarium.techniques.consistency import cutmix, cutmix_consistency, cutmix_mask


@register(
    "unetgan",
    paper="A U-Net Based Discriminator for Generative Adversarial Networks",
    year=2020,
    family="architecture",
    data=("unconditional", "labelled"),
    check=LearningCheck(
        **{**DIGITS_CHECK, "model": dict(g_width=32, d_width=16, z_dim=32)},
        reason="slow (about 110 CPU s, the longest of make test, which must stay under 20 "
        "minutes on 2 cores)",
        slow=True,
    ),
)
class UNetGAN(AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = override("dcgan")
        d_norm: str = override("spectral")
        n_critic: int = override(2)
        loss: str = hp(
            "non-saturating",
            "adversarial loss; unetgan's per-pixel and CutMix targets are written for non-saturating",
            choices=("non-saturating",),
        )
        cutmix_prob: float = fraction(0.5, "probability that a D step also sees CutMix blends")
        consistency_weight: float = loss_weight(
            1.0, "weight of the CutMix consistency of D's decoder"
        )

    def make_discriminator(self, **options: Any) -> nn.Module:
        """The U-Net discriminator: a logit per image and one per pixel."""
        kw = dict(width=self.hp.d_width or 64, norm=self.hp.d_norm, cond=self.hp.d_cond)
        return UNetDiscriminator(self.net_info(self.info), **(kw | options))

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        fake, y = self.d_fakes(batch)
        # augmented before the CutMix below, so the mix and the per-pixel targets stay aligned
        real, fake = self.augmenter(real), self.augmenter(fake)
        enc_real, pix_real = self.D.forward_both(real, y)
        enc_fake, pix_fake = self.D.forward_both(fake, y)
        self.augmenter.observe(enc_real.detach())
        loss_enc = self.adv.d(enc_real, enc_fake)
        loss_dec = self.adv.d(pix_real.flatten(), pix_fake.flatten())
        loss = loss_enc + loss_dec
        logs = {"loss_enc": loss_enc.detach(), "loss_dec": loss_dec.detach()}
        if self.hp.cutmix_prob > 0 and float(torch.rand(())) < self.hp.cutmix_prob:
            mask = cutmix_mask(real.shape[0], real.shape[2], real.shape[3], real.device)
            enc_mix, pix_mix = self.D.forward_both(cutmix(real, fake, mask), y)
            # Eq. 5-6: a mix is fake to the encoder; per pixel it is real exactly where M = 1
            loss_mix = F.softplus(enc_mix).mean() + F.binary_cross_entropy_with_logits(
                pix_mix, mask
            )
            cons = cutmix_consistency(pix_mix, pix_real, pix_fake, mask)
            loss = loss + loss_mix + self.hp.consistency_weight * cons
            logs.update(loss_mix=loss_mix.detach(), consistency=cons.detach())
        return loss, logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, y = self.fake_batch(batch)
        enc, pix = self.D.forward_both(self.augmenter(fake), y)
        return self.adv.g(enc) + self.adv.g(pix.flatten()), {}
