"""pix2pixHD (Wang et al. 2018, "High-Resolution Image Synthesis and Semantic Manipulation with
Conditional GANs"): a coarse-to-fine generator G = {G1, G2} (global generator + local enhancer),
conditional multi-scale PatchGANs D_1..D_k, and the objective (Eq. 4)

    min_G ( max_{D_1..D_k} sum_k L_GAN(G, D_k) ) + lambda sum_k L_FM(G, D_k),
    L_FM(G, D_k) = E sum_i 1/N_i || D_k^(i)(s, x) - D_k^(i)(s, G(s)) ||_1          (Eq. 5)

with the least-squares GAN loss and lambda = 10, as the authors' code. Coarse to fine (Sec. 3.2):
for the first ``coarse_fraction`` of the steps G1 alone learns at half resolution against the
same discriminators; then the local enhancer joins and the whole G trains at full size.
Cityscapes' label maps (Sec. 3.4) are the ``label-maps`` dataset's. Left out: the instance-wise
feature encoder and the optional VGG perceptual loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganarium.data import DataInfo
from ganarium.hparams import fraction, hp, loss_weight, override, switch, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._paired import PairedTranslator
from ganarium.models._previews import in_colour
from ganarium.models._translator import PATCH_LOSSES
from ganarium.nets.pix2pixhd import LocalEnhancer, MultiscaleDiscriminator, downsample2
from ganarium.nets.translator import init_normal
from ganarium.techniques.losses import LOSSES
from ganarium.techniques.multiscale import (
    feature_matching_l1,
    multiscale_d_loss,
    multiscale_g_loss,
)
from ganarium.techniques.pairs import augment_together


@register(
    "pix2pixhd",
    paper="High-Resolution Image Synthesis and Semantic Manipulation with Conditional GANs",
    year=2018,
    family="translation",
    data=("paired",),
    check=LearningCheck(
        kind="translation-paired",
        data="edges2digits",
        data_options=dict(size=16),
        steps=600,
        model=dict(
            width=16,
            d_width=32,
            d_layers=1,
            scales=2,
            global_downsamplings=2,
            global_blocks=3,
            local_blocks=1,
        ),
        train=dict(batch_size=32),
        bars=dict(psnr_margin=1.0, label_kept=0.85),
        reason="nets and steps sized for one CPU thread at 16x16 (the paper: 4 downsamplings, "
        "9 + 3 blocks, 3 three-layer D at 2048x1024, batch 1)",
    ),
)
class Pix2PixHD(PairedTranslator):
    @dataclass
    class Hparams(PairedTranslator.Hparams):
        width: int = override(32)
        norm: str = override("instance")
        scales: int = whole(
            3, "discriminators, each on the input downsampled once more (the paper's 3)"
        )
        global_downsamplings: int = whole(
            4, "stride-2 stages of the global generator G1 (4 in the paper)"
        )
        global_blocks: int = whole(9, "residual blocks of G1 (9)", minimum=0)
        local_blocks: int = whole(3, "residual blocks of the local enhancer G2 (3)", minimum=0)
        lambda_fm: float = loss_weight(
            10.0, "weight of the discriminator feature-matching loss (10)"
        )
        coarse_fraction: float = fraction(
            0.5, "fraction of the steps in which G1 alone learns at half size"
        )
        loss: str = hp(
            "least-squares",
            "adversarial loss (least-squares, as the authors' code)",
            choices=PATCH_LOSSES,
        )
        norm_affine: bool = switch(
            True,
            "learned scale and shift in the norms of G and D (False: the authors' code, plain instance norm with biased convolutions)",
        )
        d_padding: int = whole(
            1, "padding of the PatchGANs' 4x4 convs (the authors' code: 2)", minimum=0
        )

    def build_nets(self, info: DataInfo) -> None:
        hp, c_a, c_b = self.hp, self.shape_a[0], self.shape_b[0]
        blocks = (hp.global_downsamplings, hp.global_blocks, hp.local_blocks)
        G = LocalEnhancer(c_a, c_b, hp.width, *blocks, hp.norm, affine=hp.norm_affine)
        self.G = init_normal(G)  # G's init draws come before D is built
        d_kw = dict(affine=hp.norm_affine, padding=hp.d_padding)
        D = MultiscaleDiscriminator(c_b, c_a, hp.scales, hp.d_width, hp.d_layers, hp.norm, **d_kw)
        self.D = init_normal(D)
        self.adv = LOSSES.get(hp.loss)

    @property
    def min_side(self) -> int:
        return 2 * self.multiple  # G1's residual blocks reflect-pad: its bottleneck needs 2 px

    def preview_columns(self, examples: Batch, n: int) -> list[Tensor]:
        """Input | output | target, label-map inputs (one-hot, boundaries) in colour."""
        a, out, b = super().preview_columns(examples, n)
        return [in_colour(a), out, b]

    def phases(self) -> list[Phase]:
        return [Phase("D", self.d_loss, "D"), Phase("G", self.g_loss, "G", batch="D")]

    def stage(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Tensor, bool]:
        """(input, target, coarse): half-size pairs for G1 during the coarse stage."""
        x, y = batch["image"], batch["image_b"]
        coarse = ctx.progress < self.hp.coarse_fraction
        return (downsample2(x), downsample2(y), True) if coarse else (x, y, False)

    def fake(self, x: Tensor, coarse: bool) -> Tensor:
        return self.G.coarse(x) if coarse else self.G(x)

    def judge(self, x: Tensor, y: Tensor) -> list[list[Tensor]]:
        return self.D.features(*augment_together(self.augmenter, y, x))

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x, y, coarse = self.stage(batch, ctx)
        with torch.no_grad():
            fake = self.fake(x, coarse)
        real_f, fake_f = self.judge(x, y), self.judge(x, fake)
        self.augmenter.observe(real_f[0][-1].detach())
        loss = multiscale_d_loss(self.adv, real_f, fake_f)
        return loss, {
            "d_real": real_f[0][-1].detach().mean(),
            "coarse": torch.tensor(float(coarse)),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x, y, coarse = self.stage(batch, ctx)
        fake = self.fake(x, coarse)
        fake_f = self.judge(x, fake)
        with torch.no_grad():
            real_f = self.judge(x, y)
        adv, fm = multiscale_g_loss(self.adv, fake_f), feature_matching_l1(real_f, fake_f)
        l1 = (fake - y).abs().mean().detach()  # logged only: pix2pixHD has no L1 term
        return adv + self.hp.lambda_fm * fm, {"adv": adv.detach(), "fm": fm.detach(), "l1": l1}
