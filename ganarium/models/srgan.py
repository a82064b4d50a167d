"""SRGAN (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network"): a residual generator with sub-pixel upsampling (SRResNet) and a
discriminator, trained with the perceptual loss (Eqs. 3-6)

    l^SR = l^SR_X + 10^-3 l^SR_Gen,   l^SR_Gen = sum -log D(G(I^LR)),
    l^SR_X = 1 / (W H) || phi(I^HR) - phi(G(I^LR)) ||^2   (content loss on feature maps)

``content='vgg54'`` is the paper's phi, VGG19's map after conv5_4 (``techniques.perceptual``
lists the others: ``pixels`` is the paper's SRResNet-MSE). The paper scales the VGG feature maps
by 1 / 12.75, the loss by 1 / 12.75^2 ~ 0.006 (``content_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import DataError
from ganarium.hparams import hp, loss_weight, override, positive, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._paired import PairedTranslator
from ganarium.models._translator import PATCH_LOSSES
from ganarium.nets.srresnet import SRDiscriminator, SRResNet
from ganarium.nets.vgg import VGG_LAYERS
from ganarium.techniques.losses import LOSSES
from ganarium.techniques.perceptual import CONTENT_KINDS, ContentLoss


@register(
    "srgan",
    paper="Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network",
    year=2017,
    family="translation",
    data=("paired",),
    check=LearningCheck(
        kind="translation-paired",
        data="digits-sr",
        data_options=dict(size=24, factor=4),
        steps=400,
        model=dict(width=32, blocks=4, d_width=32, d_pairs=3),
        train=dict(batch_size=32),
        bars=dict(psnr_margin=1.0, label_kept=0.85, label_over_baseline=0.05),
        reason="6x6 -> 24x24 digits (at 28x28 bicubic already reads 93.6% of labels, leaving no "
        "room for +5 points); nets and steps sized for the CPU (the paper: 16 blocks of 64, "
        "2 x 10^5 iterations); content loss on the digit classifier's features, not VGG",
        slow=True,
    ),
)
class SRGAN(PairedTranslator):
    @dataclass
    class Hparams(PairedTranslator.Hparams):
        lr_g: float = override(0.0001)
        lr_d: float = override(0.0001)
        betas: tuple[float, float] = override((0.9, 0.999))
        blocks: int = whole(16, "residual blocks of the SRResNet generator (16 in the paper)")
        d_pairs: int = whole(4, "(stride 1, stride 2) conv pairs in D (4 in the paper)")
        content: str = hp(
            "auto",
            "content loss: vgg54 or vgg22 (VGG19 feature maps, the paper's), digit-classifier (its conv features), pixels (MSE), or auto (digit-classifier for 1-channel data, else pixels)",
            choices=CONTENT_KINDS,
        )
        vgg_weights: str = hp(
            "",
            "a torchvision vgg19 state dict file for content=vgg54 or vgg22 (empty: torchvision's IMAGENET1K_V1 weights from its cache or download)",
            test=lambda v: isinstance(v, str),
            rule="a file path",
        )
        lambda_adv: float = loss_weight(0.001, "weight of the adversarial loss (10^-3)")
        content_scale: float = positive(
            1.0,
            "factor on the feature content loss (the paper scales VGG's feature maps by 1/12.75, the loss by 1/12.75^2 = 0.00615)",
        )
        loss: str = hp(
            "non-saturating",
            "adversarial loss (non-saturating -log D(G(x)) is the paper's)",
            choices=PATCH_LOSSES,
        )
        d_head: str = hp(
            "pooled",
            "D's dense layers: pooled (1x1 convs after average pooling, any size) or flatten (the paper's Fig. 4: dense 1024 on the flattened features of the training crop)",
            choices=("pooled", "flatten"),
        )

        def check(self) -> str | None:
            if self.vgg_weights and self.content not in VGG_LAYERS:
                return (
                    f"model.vgg_weights is read only with content=vgg54 or vgg22 (content="
                    f"{self.content}): drop it or set model.content=vgg54"
                )
            return super().check()

    same_channels = True

    def build_nets(self, info: DataInfo) -> None:
        hp, c, factor = self.hp, self.shape_b[0], self.shape_b[-1] // self.shape_a[-1]
        if factor * self.shape_a[-1] != self.shape_b[-1] or factor < 2:
            raise DataError(
                f"srgan needs B a power-of-2 multiple of A's size, got A {self.shape_a} and "
                f"B {self.shape_b}: use digits-sr (factor 4) or paired data of that kind"
            )
        self.G = SRResNet(c, c, factor, hp.width, hp.blocks)
        size = tuple(self.shape_b[1:]) if hp.d_head == "flatten" else None
        self.D = SRDiscriminator(c, hp.d_width, hp.d_pairs, size)
        self.adv = LOSSES.get(hp.loss)
        self.content_loss = ContentLoss(  # its frozen feature net is no module of the recipe
            hp.content, self.shape_b, hp.vgg_weights, hp.content_scale, owner=self.name
        )

    @property
    def scale(self) -> int:
        return self.G.factor

    def feature_net(self) -> nn.Module | None:
        """The frozen net whose feature maps the content loss compares (None: pixels)."""
        return self.content_loss.feature_net()

    def phases(self) -> list[Phase]:
        self.feature_net()  # a missing VGG fails here, before a run writes anything
        return [Phase("D", self.d_loss, "D"), Phase("G", self.g_loss, "G", batch="D")]

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        with torch.no_grad():
            fake = self.G(batch["image"])
        d_real = self.D(self.augmenter(batch["image_b"]))
        d_fake = self.D(self.augmenter(fake))
        self.augmenter.observe(d_real.detach())
        return self.adv.d(d_real, d_fake), {
            "d_real": d_real.detach().mean(),
            "d_fake": d_fake.detach().mean(),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, real = self.G(batch["image"]), batch["image_b"]
        content = self.content_loss(fake, real)
        adv = self.adv.g(self.D(self.augmenter(fake)))
        mse = F.mse_loss(fake.detach(), real)
        return content + self.hp.lambda_adv * adv, {
            "content": content.detach(),
            "adv": adv.detach(),
            "mse": mse,
        }
