"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"):
StyleGAN's mapping network and styles with AdaIN replaced by weight modulation and
demodulation (Eq. 1-3), noise and bias outside the style block (Fig. 2c-d), the skip-connection
generator and the residual discriminator (Fig. 7, config E/F), lazy R1 (gamma 10, every 16
steps, weighted by 16; Sec. 3.1) and path-length regularization every 4 steps (Eq. 4-5):

    E_{w, y ~ N(0, I)} (||J_w^T y||_2 - a)^2,  J_w^T y = d(g(w) . y)/dw,

y scaled by 1/sqrt(H W), ``a`` the running mean of the lengths (decay 0.01), weight 2, on half
the batch. Adam(2e-3, 0, 0.99); sampling uses the EMA of G and fixed noise.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganarium.amp import input_grad
from ganarium.data import DataInfo
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._style import StyleRecipe
from ganarium.models.stylegan import STYLE_CHECK
from ganarium.nets.stylegan import ResidualDiscriminator, Style2Generator


@register(
    "stylegan2",
    paper="Analyzing and Improving the Image Quality of StyleGAN",
    year=2020,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(
        **{
            **STYLE_CHECK,
            "reason": "slow (2500 steps): at 1000 steps FID 169 (bar 124) with 7 classes, at "
            "2000 FID 114 with 7; at 2500 FID 88 with 9 classes, mixes keeping the coarse "
            "source's class in 90%. R1 gamma 10 is kept: the gamma 0.01 of StyleGAN2-ADA's "
            "32x32 setting gave FID 359 at 1000 steps",
        }
    ),
)
class StyleGAN2(StyleRecipe):
    defaults = {
        **StyleRecipe.defaults,
        "lr": 2e-3,
        "r1_every": 16,
        "pl_weight": 2.0,
        "pl_every": 4,
        "pl_decay": 0.01,
        "pl_batch_shrink": 2,
    }
    hparam_help = {
        "pl_weight": "weight of the path-length penalty (0: off)",
        "pl_every": "path-length regularization every this many steps (weighted by it)",
        "pl_decay": "decay of the running mean path length a",
        "pl_batch_shrink": "the path-length batch is the batch divided by this",
    }

    def make_nets(self, info: DataInfo) -> tuple[nn.Module, nn.Module]:
        hp = self.hp
        G = Style2Generator(info, hp.z_dim, hp.w_dim, hp.mapping_layers, hp.width)
        D = ResidualDiscriminator(info, hp.width, hp.group_size)
        self.register_buffer("pl_mean", torch.zeros(()))
        return G, D

    def phases(self) -> list[Phase]:
        phases = super().phases()
        if self.hp.pl_weight > 0:
            phases.append(Phase("PL", self.pl_loss, "G", every=self.hp.pl_every, batch="D"))
        return phases

    def learning_state(self) -> dict[str, float]:
        return {"pl_mean": float(self.pl_mean), **super().learning_state()}

    def pl_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        n = max(1, len(batch["image"]) // self.hp.pl_batch_shrink)
        ws = self.training_ws(n, batch["image"].device)
        images = self.G.synthesis(ws, "random")
        y = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        grad = input_grad((images * y).sum(), ws)  # J_w^T y, (n, num_ws, w_dim)
        lengths = grad.pow(2).sum(2).mean(1).sqrt()
        with torch.no_grad():
            self.pl_mean.lerp_(lengths.mean().float(), self.hp.pl_decay)
        penalty = (lengths - self.pl_mean).pow(2).mean()
        loss = penalty * self.hp.pl_weight * self.hp.pl_every
        return loss, {"penalty": penalty.detach(), "length": lengths.detach().mean()}
