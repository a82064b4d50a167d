"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks"): a U-Net G(x) and a conditional PatchGAN D(x, y) trained with

    G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G),                      (Eq. 4)
    L_cGAN = E log D(x, y) + E log(1 - D(x, G(x))),  L_L1 = E ||y - G(x)||_1  (Eqs. 1, 3)

with lambda = 100, G trained on the non-saturating -log D(x, G(x)), D's loss halved (Sec. 3.3),
Adam(2e-4, beta1 = 0.5), weights N(0, 0.02), dropout as G's only noise. ``lambda_adv=0`` is the
paper's "L1 alone" ablation (Table 1), which the learning check trains too, to measure the
paper's claim that L1 + cGAN is closer to the target domain than L1 alone.

``test_mode=train`` translates as the paper does at test time (Sec. 3.3): G in train mode, so
dropout stays on and batch norm uses the test batch's statistics, without moving G's running
statistics or weights; ``eval`` (the default) uses running statistics and no dropout.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.hparams import fraction, hp, loss_weight, switch, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._paired import PairedTranslator
from ganarium.models._translator import PATCH_LOSSES
from ganarium.nets.patchgan import PatchGANDiscriminator
from ganarium.nets.translator import init_normal, translate_in_train
from ganarium.nets.unet import UNetGenerator, depth_for
from ganarium.techniques.losses import LOSSES

PAIRED_REASON = (
    "16x16 digits, a width-32 U-Net of depth 4 and a 1-layer PatchGAN (16x16 patches) instead of "
    "the paper's 64 / 8 / 70x70 on 256x256, and batch 32 (the paper: 1), sized for one CPU "
    "thread"
)


@register(
    "pix2pix",
    paper="Image-to-Image Translation with Conditional Adversarial Networks",
    year=2017,
    family="translation",
    data=("paired",),
    check=LearningCheck(
        kind="translation-paired",
        data="edges2digits",
        data_options=dict(size=16),
        steps=2000,
        model=dict(width=32, d_width=32, d_layers=1),
        train=dict(batch_size=32),
        bars=dict(psnr_margin=1.0, label_kept=0.85, fid_below_l1=1.0),
        reason=PAIRED_REASON
        + ". 2000 steps, not 600, for the paper's claim: FID[digit-classifier] of L1 + cGAN vs "
        "L1 alone was 15.6 vs 16.3 (seed 0) and 14.8 vs 14.3 (seed 1) at 600 steps, "
        "4.41 vs 5.81 and 4.38 vs 5.69 at 2000",
        slow=True,
    ),
)
class Pix2Pix(PairedTranslator):
    @dataclass
    class Hparams(PairedTranslator.Hparams):
        depth: int = whole(
            0, "U-Net downsamplings (0: down to 1x1 for the data's size, 8 for 256 px)", minimum=0
        )
        dropout: float = fraction(0.5, "dropout on G's inner decoder layers (pix2pix's noise)")
        lambda_l1: float = loss_weight(
            100.0, "weight of the L1 loss to the target (the paper's lambda = 100)"
        )
        lambda_adv: float = loss_weight(
            1.0, "weight of the cGAN loss (0: the paper's L1-only ablation, D untrained)"
        )
        loss: str = hp(
            "non-saturating",
            "adversarial loss of the PatchGAN (non-saturating is the paper's)",
            choices=PATCH_LOSSES,
        )
        encoder_bias: bool = switch(
            True,
            "a bias on G's outermost and innermost encoder convs (False: as the authors' unet_256)",
        )
        test_mode: str = hp(
            "eval",
            "how translate runs G: eval (running statistics, no dropout) or train (the paper: dropout on, batch statistics; running statistics untouched)",
            choices=("eval", "train"),
        )

    def g_channels(self) -> tuple[int, int]:
        """(G's input channels, G's output channels)."""
        return self.shape_a[0], self.shape_b[0]

    def build_nets(self, info: DataInfo) -> None:
        c_in, c_out = self.g_channels()
        depth = self.hp.depth or depth_for(min(self.shape_a[1:]))
        self.G = init_normal(
            UNetGenerator(
                c_in,
                c_out,
                self.hp.width,
                depth,
                self.hp.norm,
                self.hp.dropout,
                encoder_bias=self.hp.encoder_bias,
            )
        )
        self.D = init_normal(
            PatchGANDiscriminator(c_out, c_in, self.hp.d_width, self.hp.d_layers, self.hp.norm)
        )
        self.adv = LOSSES.get(self.hp.loss)

    def run_translator(self, G: nn.Module, x: Tensor) -> Tensor:
        if self.hp.test_mode == "train":
            return translate_in_train(G, x, self.multiple, self.scale, self.min_side)
        return super().run_translator(G, x)

    def trains_d(self) -> bool:
        return self.hp.lambda_adv != 0  # L1 alone: D plays no part

    def phases(self) -> list[Phase]:
        if not self.trains_d():
            return [Phase("G", self.g_loss, "G")]
        return [Phase("D", self.d_loss, "D"), Phase("G", self.g_loss, "G", batch="D")]

    def pair(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """(G's input, G's target) of a batch, in the spaces the nets work in."""
        return self.net_input(batch["image"]), batch["image_b"]

    def judge(self, x: Tensor, y: Tensor) -> Tensor:
        """D's patch logits for output y given input x; the pair is augmented together."""
        both = self.augmenter(torch.cat([y, x], 1))
        return self.D(both[:, : y.shape[1]], both[:, y.shape[1] :])

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x, y = self.pair(batch)
        with torch.no_grad():
            fake = self.G(x)
        d_real, d_fake = self.judge(x, y), self.judge(x, fake)
        self.augmenter.observe(d_real.detach())
        loss = 0.5 * self.adv.d(d_real, d_fake)
        return loss, {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x, y = self.pair(batch)
        fake = self.G(x)
        l1 = (fake - y).abs().mean()
        loss = self.hp.lambda_l1 * l1
        logs = {"l1": l1.detach()}
        if self.hp.lambda_adv:
            adv = self.adv.g(self.judge(x, fake))
            loss = loss + self.hp.lambda_adv * adv
            logs["adv"] = adv.detach()
        return loss, logs
