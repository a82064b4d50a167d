"""Context Encoders (Pathak et al. 2016, "Context Encoders: Feature Learning by Inpainting"): an
encoder-decoder F fills a hole in an image; the joint loss (Eqs. 1-3) is

    L = lambda_rec L_rec + lambda_adv L_adv,   L_rec = || M * (x - F((1 - M) * x)) ||_2^2,
    L_adv = max_D E log D(x) + E log(1 - D(F((1 - M) * x)))

with lambda_rec = 0.999 and lambda_adv = 0.001, Adam(2e-4, beta1 = 0.5). Holes are the paper's
"random block" regions (``digits-inpaint``). F is an encoder-decoder without skips down to a
1 x 1 bottleneck at the training size (the paper's channel-wise fully connected layer fixes the
input size; a bottleneck conv keeps the net fully convolutional). D judges the completed image,
the input outside the hole and F's prediction inside, so the adversarial loss acts on the hole.

``translate(x)`` pastes F's prediction into the hole of x, found as the pixels whose every
channel is the hole's fill value (mid-gray, 127 or 128 of 255) in blocks of at least 3 x 3,
and keeps the rest of x.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.data import DataInfo
from ganarium.data.paired import HOLE_FILL
from ganarium.hparams import hp, loss_weight
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._paired import PairedTranslator
from ganarium.models._translator import PATCH_LOSSES
from ganarium.nets.patchgan import PatchGANDiscriminator
from ganarium.nets.translator import init_normal
from ganarium.nets.unet import UNetGenerator, depth_for
from ganarium.techniques.losses import LOSSES

FILL_TOLERANCE = 0.6 / 127.5  # mid-gray read back from 8-bit files: 127 and 128 of 255


def hole_of(x: Tensor) -> Tensor:
    """(N, 1, H, W) mask, 1 where every channel of x is the hole's fill value, opened with a
    3 x 3 square so stray mid-gray pixels at stroke edges do not count as holes."""
    found = ((x - HOLE_FILL).abs() <= FILL_TOLERANCE).all(1, keepdim=True).to(x)
    eroded = -F.max_pool2d(-found, 3, 1, 1)
    return F.max_pool2d(eroded, 3, 1, 1) * found


@register(
    "context-encoder",
    paper="Context Encoders: Feature Learning by Inpainting",
    year=2016,
    family="translation",
    data=("paired",),
    check=LearningCheck(
        kind="translation-paired",
        data="digits-inpaint",
        data_options=dict(size=16, hole=0.5),
        steps=600,
        model=dict(width=32, d_width=32, d_layers=1),
        train=dict(batch_size=32),
        bars=dict(psnr_margin=1.0, label_kept=0.85),
        reason="16x16 digits with 8x8 holes at random places, a width-32 encoder-decoder and a "
        "one-layer PatchGAN, batch 32, 600 steps, instead of the paper's 128x128 images, "
        "AlexNet-sized encoder and batch 64; sized for one CPU thread",
    ),
)
class ContextEncoder(PairedTranslator):
    @dataclass
    class Hparams(PairedTranslator.Hparams):
        lambda_rec: float = loss_weight(
            0.999, "weight of the L2 reconstruction of the hole (0.999)"
        )
        lambda_adv: float = loss_weight(0.001, "weight of the adversarial loss (0.001)")
        loss: str = hp(
            "non-saturating", "adversarial loss (the paper's -log D)", choices=PATCH_LOSSES
        )

    same_channels = True

    def build_nets(self, info: DataInfo) -> None:
        c = self.shape_b[0]
        depth = depth_for(min(self.shape_a[1:]))
        self.G = init_normal(
            UNetGenerator(c, c, self.hp.width, depth, self.hp.norm, 0.0, skips=False)
        )
        self.D = init_normal(
            PatchGANDiscriminator(c, 0, self.hp.d_width, self.hp.d_layers, self.hp.norm)
        )
        self.adv = LOSSES.get(self.hp.loss)

    def net_output(self, a: Tensor, out: Tensor) -> Tensor:
        mask = hole_of(a)
        return a * (1 - mask) + out * mask

    def phases(self) -> list[Phase]:
        return [Phase("D", self.d_loss, "D"), Phase("G", self.g_loss, "G", batch="D")]

    def complete(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """(F's raw prediction, the completed image: input outside the hole, F's inside)."""
        a, m = batch["image"], batch["mask"]
        pred = self.G(a)
        return pred, a * (1 - m) + pred * m

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        with torch.no_grad():
            _, fake = self.complete(batch)
        d_real = self.D(self.augmenter(batch["image_b"]))
        d_fake = self.D(self.augmenter(fake))
        self.augmenter.observe(d_real.detach())
        return self.adv.d(d_real, d_fake), {
            "d_real": d_real.detach().mean(),
            "d_fake": d_fake.detach().mean(),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        pred, fake = self.complete(batch)
        m = batch["mask"]
        rec = ((pred - batch["image_b"]) * m).pow(2).sum() / m.sum().clamp_min(1)
        adv = self.adv.g(self.D(self.augmenter(fake)))
        loss = self.hp.lambda_rec * rec + self.hp.lambda_adv * adv
        return loss, {"rec": rec.detach(), "adv": adv.detach()}
