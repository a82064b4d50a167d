"""StyleGAN (Karras et al. 2019, "A Style-Based Generator Architecture for Generative
Adversarial Networks"): a mapping network z -> w (8 dense layers, lr x 0.01), a synthesis
network from a learned constant whose layers each read a style through AdaIN (Eq. 1), per-layer
noise inputs (Sec. 3.2), style-mixing regularization (two latents crossed at a random layer in
90% of G steps, Sec. 3.1), the truncation trick in W, w' = w_avg + psi (w - w_avg) (App. B),
the non-saturating logistic loss with R1 (gamma 10, Sec. 5 and App. C) and Adam(1e-3, 0, 0.99).

Trained at the data's resolution from the start, without the paper's progressive growing
(which StyleGAN2 showed unnecessary; ``progan`` grows). Sampling uses the EMA of G and fixed
noise, so the same w gives the same image.

The paper's layout (the ``ffhq-1024`` preset): ``channel_base`` 16384 (the authors' fmap_base
8192), ``fused_from`` 128 (their fused resampling convolutions from 128x128 on), ``blur_size``
3 (the binomial filter [1, 2, 1]) and ``d_blur`` (D filters before each downsampling conv).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.hparams import override, switch, whole
from ganarium.models import LearningCheck, register
from ganarium.models._style import StyleRecipe
from ganarium.nets.progan import ProGANDiscriminator
from ganarium.nets.stylegan import StyleGenerator

# G's EMA with the papers' half-life of 10k images (G_smoothing_kimg=10) at batch 64
EMA_10K_AT_64 = 0.5 ** (64 / 10_000)

STYLE_CHECK = dict(
    kind="style-mixing",
    data="digits",
    data_options=dict(size=16),
    steps=2500,
    model=dict(z_dim=32, w_dim=32, mapping_layers=4, width=32),
    train=dict(batch_size=64, ema_decay=EMA_10K_AT_64),
    bars=dict(
        fid_ratio=0.5, classes_covered=9, mix_change=0.1, mix_class_kept=0.7, spread_ratio=1.0
    ),
    reason="slow (2500 steps): at 1000 steps FID 112 (bar 104.5), 8 classes and the coarse "
    "source kept its class in only 54% of mixes; the styles separate by level with training "
    "(65% at 1500 steps, 72% at 2000, 75% at 2500 with FID 69 and 9 classes)",
    slow=True,
)


@register(
    "stylegan",
    paper="A Style-Based Generator Architecture for Generative Adversarial Networks",
    year=2019,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(**STYLE_CHECK),
)
class StyleGAN(StyleRecipe):
    @dataclass
    class Hparams(StyleRecipe.Hparams):
        lr: float = override(0.001)
        fused_from: int = whole(
            0, "fuse x2 resampling and conv from this resolution on (the authors': 128)", minimum=0
        )
        blur_size: int = whole(
            4,
            "taps of the binomial resampling filter: 4 is [1, 3, 3, 1], 3 the authors' [1, 2, 1]",
            minimum=2,
        )
        d_blur: bool = switch(
            False, "D low-passes with that filter before each downsampling conv (the authors' D)"
        )

    def make_nets(self, info: DataInfo) -> tuple[nn.Module, nn.Module]:
        hp = self.hp
        plan = dict(channel_base=hp.channel_base, channel_max=hp.channel_max)
        taps = tuple(float(math.comb(hp.blur_size - 1, k)) for k in range(hp.blur_size))
        G = StyleGenerator(
            info,
            hp.z_dim,
            hp.w_dim,
            hp.mapping_layers,
            hp.width,
            **plan,
            mapping_lr_mul=hp.mapping_lr_mul,
            fused_from=hp.fused_from,
            blur_taps=taps,
        )
        # the ProGAN discriminator at the full resolution (the paper's D)
        D = ProGANDiscriminator(
            info,
            hp.width,
            hp.group_size,
            **plan,
            fused_from=hp.fused_from,
            blur_taps=taps if hp.d_blur else (),
        )
        return G, D

    def critic(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.D(self.augmenter(x), self.D.levels - 1)
