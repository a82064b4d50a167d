"""U-Net GAN (Schönfeld et al. 2020, "A U-Net Based Discriminator for Generative Adversarial
Networks"): a U-Net discriminator judges images globally (encoder) and per pixel (decoder),
L_D = L_D^enc + L_D^dec and L_G = -E[log D_enc(G(z)) + mean_ij log D_dec(G(z))_ij] (Eq. 2-4,
non-saturating). With probability ``cutmix_prob`` a D step also sees CutMix blends of real and
fake images: the encoder must call them fake, the decoder must find the real pixels (target M),
and the decoder's output must be consistent with mixing (Eq. 5-7, ``ganarium.consistency``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganarium.consistency import cutmix, cutmix_consistency, cutmix_mask
from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.losses import LOSSES
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.nets import NETS
from ganarium.nets.unet_d import UNetDiscriminator


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
    defaults = {
        **AdversarialRecipe.defaults,
        "net": "dcgan",
        "d_norm": "spectral",
        "d_cond": "none",
        "loss": "non-saturating",
        # U-Net GAN is built on BigGAN, which takes two D steps per G step; with one, the 600-step
        # check covers only 7-8 classes (FID 150-160), with two it covers 9 (FID 133)
        "n_critic": 2,
        "cutmix_prob": 0.5,
        "consistency_weight": 1.0,
    }
    hparam_help = {
        "consistency_weight": "weight of the CutMix consistency of D's decoder",
        "cutmix_prob": "probability that a D step also sees CutMix blends",
    }

    def build(self, info: DataInfo) -> None:
        if self.hp.loss != "non-saturating":
            raise ConfigError(
                "unetgan's per-pixel and CutMix targets are written for loss=non-saturating"
            )
        ninfo = self.net_info(info)
        g_kw = dict(z_dim=self.hp.z_dim, norm=self.hp.g_norm, cond=self.hp.g_cond)
        if self.hp.g_width is not None:
            g_kw["width"] = self.hp.g_width
        self.G = NETS.get(self.net_family_name(info)).generator(ninfo, **g_kw)
        self.D = UNetDiscriminator(
            ninfo, width=self.hp.d_width or 64, norm=self.hp.d_norm, cond=self.hp.d_cond
        )
        self.adv = LOSSES.get(self.hp.loss)

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
