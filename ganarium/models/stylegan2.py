"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"):
StyleGAN's mapping network and styles with AdaIN replaced by weight modulation and demodulation
(Eq. 1-3), noise and bias outside the style block (Fig. 2c-d), the skip-connection generator and
the residual discriminator (Fig. 7, config E/F), lazy R1 (gamma 10, every 16 steps; Sec. 3.1)
and path-length regularization every 4 steps (Eq. 4-5, weight 2, on half the batch;
``techniques.path_length``). Adam(2e-3, 0, 0.99); sampling uses the EMA of G and fixed noise.

``layout='official'`` builds the authors' layout (``nets.stylegan2_official``), where
``conditional`` embeds the label into the mapping network and projects D's output on a mapping
of the label (their class-conditional CIFAR-10 net). The default compact layout is the original
ganarium net, which the learning check measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.hparams import fraction, hp, loss_weight, override, switch, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._style import StyleRecipe
from ganarium.models.stylegan import STYLE_CHECK
from ganarium.nets.stylegan import ResidualDiscriminator, Style2Generator
from ganarium.nets.stylegan2_official import (
    D_ARCHITECTURES,
    OfficialStyle2Discriminator,
    OfficialStyle2Generator,
)
from ganarium.techniques.path_length import path_length_penalty

LAYOUTS = ("compact", "official")


@register(
    "stylegan2",
    paper="Analyzing and Improving the Image Quality of StyleGAN",
    year=2020,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(
        **{
            **STYLE_CHECK,
            "reason": "slow (2500 steps): FID 169 (bar 124) with 7 classes at 1000 steps, 114 "
            "with 7 at 2000, 88 with 9 at 2500; R1 gamma 10 kept: StyleGAN2-ADA's 32x32 gamma "
            "0.01 gave FID 359 at 1000 steps",
        }
    ),
)
class StyleGAN2(StyleRecipe):
    @dataclass
    class Hparams(StyleRecipe.Hparams):
        r1_every: int = override(16)
        pl_weight: float = loss_weight(2.0, "weight of the path-length penalty (0: off)")
        pl_every: int = whole(
            4, "path-length regularization every this many steps (weighted by it)"
        )
        pl_decay: float = fraction(0.01, "decay of the running mean path length a")
        pl_batch_shrink: int = whole(2, "the path-length batch is the batch divided by this")
        layout: str = hp(
            "compact",
            "compact (ganarium's nets) or official (the authors' layer layout and D block)",
            choices=LAYOUTS,
        )
        d_architecture: str = hp(
            "resnet",
            "official layout: D blocks 'resnet' (config F) or 'orig' (their CIFAR)",
            choices=D_ARCHITECTURES,
        )
        mbstd_channels: int = whole(
            1, "official layout: minibatch stddev channels (0: none)", minimum=0
        )
        d_mapping_layers: int = whole(
            8, "official layout, conditional: dense layers of D's label mapping"
        )
        conditional: bool = switch(
            False, "official layout: class-conditional G (label embedding) and D (projection)"
        )

        def check(self) -> str | None:
            official_only = (
                self.conditional or self.d_architecture != "resnet" or self.mbstd_channels != 1
            )
            if self.layout != "official" and official_only:
                return "conditional, d_architecture and mbstd_channels need layout=official"
            return super().check()

    def is_conditional(self) -> bool:
        return bool(self.hp.conditional)

    def make_nets(self, info: DataInfo) -> tuple[nn.Module, nn.Module]:
        hp = self.hp
        if hp.conditional and not info.labelled:
            raise ConfigError(f"stylegan2: conditional=true needs labelled data, not {info.name}")
        plan = dict(channel_base=hp.channel_base, channel_max=hp.channel_max, width=hp.width)
        g_args = (info, hp.z_dim, hp.w_dim, hp.mapping_layers)
        if hp.layout == "official":
            classes = info.num_classes if hp.conditional else 0
            G: nn.Module = OfficialStyle2Generator(
                *g_args, **plan, mapping_lr_mul=hp.mapping_lr_mul, num_classes=classes
            )
            D: nn.Module = OfficialStyle2Discriminator(
                info,
                **plan,
                architecture=hp.d_architecture,
                mbstd_group=hp.group_size,
                mbstd_channels=hp.mbstd_channels,
                num_classes=classes,
                mapping_layers=hp.d_mapping_layers,
            )
        else:
            G = Style2Generator(*g_args, **plan, mapping_lr_mul=hp.mapping_lr_mul)
            D = ResidualDiscriminator(info, group_size=hp.group_size, **plan)
        self.register_buffer("pl_mean", torch.zeros(()))
        return G, D

    def reg_intervals(self) -> dict[str, int]:
        # as the authors, G's interval counts even with pl_weight 0 (their CIFAR setting)
        return {"G": self.hp.pl_every, "D": self.hp.r1_every}

    def phases(self) -> list[Phase]:
        phases = super().phases()
        if self.hp.pl_weight > 0:
            phases.append(Phase("PL", self.pl_loss, "G", every=self.hp.pl_every, batch="D"))
        return phases

    def learning_state(self) -> dict[str, float]:
        return {"pl_mean": float(self.pl_mean), **super().learning_state()}

    def pl_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        n = max(1, len(batch["image"]) // self.hp.pl_batch_shrink)
        labels = self.labels_of(batch)
        ws = self.training_ws(n, batch["image"].device, None if labels is None else labels[:n])
        images = self.G.synthesis(ws, "random")
        penalty, lengths = path_length_penalty(images, ws, self.pl_mean, self.hp.pl_decay)
        loss = penalty * self.hp.pl_weight * self.hp.pl_every
        return loss, {"penalty": penalty.detach(), "length": lengths.detach().mean()}
