"""BigGAN and BigGAN-deep (Brock et al. 2019, "Large Scale GAN Training for High Fidelity Natural
Image Synthesis"): SAGAN's hinge loss, spectral norm and attention, plus a shared class embedding
and hierarchical z feeding conditional BN (gains centred at 1), a projection discriminator, the
orthogonal regularisation of Eq. 3 on G (beta = 1e-4), two D steps per G step, Adam(lr_G 5e-5,
lr_D 2e-4, betas (0, 0.999)), an EMA of G (the Trainer's) and the truncation trick at sampling
(Sec. 3.1: latents with |z| above a threshold are resampled). ``arch=official`` builds the
authors' nets (BigGAN-PyTorch's channel tables, pooled attention, SN on the CBN linears, their
initialisations); ``standing_stats`` re-estimates G's batch-norm statistics before sampling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities.truncation import Truncation
from ganarium.data import DataInfo
from ganarium.hparams import hp, loss_weight, override, positive, size, switch, whole
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models._standing import standing_generator_statistics
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.cgan import CONDITIONAL_CHECK
from ganarium.nets.biggan import BigGANDiscriminator, BigGANGenerator
from ganarium.nets.biggan_official import (
    INITS,
    OfficialBigGANDiscriminator,
    OfficialBigGANGenerator,
    init_weights,
)
from ganarium.techniques.losses import LOSSES
from ganarium.techniques.regularizers import orthogonal_penalty
from ganarium.techniques.truncation import truncate_latent

ARCHS = ("compact", "official")

BIGGAN_CHECK: dict[str, Any] = {
    **CONDITIONAL_CHECK,
    "steps": 1200,
    "model": dict(g_width=8, d_width=8, z_dim=30, shared_dim=16, lr_g=2e-4, lr_d=4e-4),
    "reason": "1200 steps (slow; class accuracy 0.42 at 600 steps, 0.76 at 900); lr_G 2e-4 / "
    "lr_D 4e-4, not the 5e-5 / 2e-4 made for batch 2048 over 10^5 steps",
    "slow": True,
}


@register(
    "biggan",
    paper="Large Scale GAN Training for High Fidelity Natural Image Synthesis",
    year=2019,
    family="architecture",
    data=("labelled",),
    check=LearningCheck(**BIGGAN_CHECK),
)
@register(
    "biggan-deep",
    paper="Large Scale GAN Training for High Fidelity Natural Image Synthesis (BigGAN-deep)",
    year=2019,
    family="architecture",
    data=("labelled",),
    deep=True,
    z_dim=128,
    check=LearningCheck(
        **{
            **BIGGAN_CHECK,
            "model": {**BIGGAN_CHECK["model"], "g_width": 16, "d_width": 16},
            "reason": BIGGAN_CHECK["reason"] + "; width 16 (the deep bottleneck is a quarter "
            "of it): at width 8 class accuracy is 0.46 after 1200 steps",
        }
    ),
)
class BigGAN(Truncation, AdversarialRecipe):
    requires_labels = True

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = override("biggan")
        z_dim: int = override(120)
        g_width: int = override(64)
        d_width: int = override(64)
        d_norm: str = override("spectral")
        g_cond: str = override("cbn")
        d_cond: str = override("projection")
        conditional: bool = override(True)
        loss: str = override("hinge")
        lr_g: float = override(5e-05)
        betas: tuple[float, float] = override((0.0, 0.999))
        n_critic: int = override(2)
        deep: bool = switch(False, "BigGAN-deep blocks (bottlenecked, twice as many)")
        shared_dim: int = size(
            128, "size of the class embedding shared by G's conditional batch norms"
        )
        attn_res: int | list[int] | None = hp(
            None,
            "resolution of the self-attention block (None: the nets' default; with arch=official a list of resolutions, 0 for none, None for 64)",
        )
        ortho_weight: float = loss_weight(
            0.0001, "beta of the orthogonal regularisation of G's weights (0: off)"
        )
        arch: str = hp(
            "compact",
            "compact (small nets: width * 2**k, for CPU checks) or official (the authors' channel tables per resolution, pooled attention, SN on the CBN linears)",
            choices=ARCHS,
        )
        hier: bool = switch(
            True, "arch=official: split z into chunks, one per G block (BigGAN's hierarchical z)"
        )
        g_shared: bool = switch(
            True,
            "arch=official: one shared class embedding for G's conditional BNs (false: per-class gain and bias tables, as in the authors' CIFAR and SAGAN nets)",
        )
        init: str | None = hp(
            None,
            "weight init of G and D: ortho, N02, xavier or default (None: ortho with arch=official, PyTorch's default with arch=compact)",
            choices=(None, *INITS),
        )
        adam_eps: float = positive(1e-08, "Adam's epsilon")
        standing_stats: int = whole(
            0,
            "forward passes over which G's batch-norm statistics are re-estimated before sampling (BigGAN's standing statistics; 0: off)",
            minimum=0,
        )
        standing_batch: int = whole(64, "batch size of those passes")

        def check(self) -> str | None:
            if self.arch != "official" and not (self.hier and self.g_shared):
                return "hier=false and g_shared=false need arch=official"
            return super().check()

    def build(self, info: DataInfo) -> None:
        hp, ninfo = self.hp, self.net_info(info)
        g = dict(z_dim=hp.z_dim, width=hp.g_width, shared_dim=hp.shared_dim, deep=hp.deep)
        d = dict(width=hp.d_width, norm=hp.d_norm, cond=hp.d_cond, deep=hp.deep)
        if hp.arch == "official":  # ganarium.nets.biggan_official: the authors' nets
            official = dict(attn=hp.attn_res, init=hp.init or "ortho")
            self.G = OfficialBigGANGenerator(
                ninfo, shared=hp.g_shared, hier=hp.hier, **g, **official
            )
            self.D = OfficialBigGANDiscriminator(ninfo, **d, **official)
        else:  # ganarium.nets.biggan: width * 2**k channels, for CPU checks
            self.G = BigGANGenerator(ninfo, attn_res=hp.attn_res, **g)
            self.D = BigGANDiscriminator(ninfo, attn_res=hp.attn_res, **d)
            if hp.init is not None:
                init_weights(self.G, hp.init)
                init_weights(self.D, hp.init)
        self.adv = LOSSES.get(hp.loss)
        self.latent = self.make_latent()

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        if self.hp.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=tuple(self.hp.betas), eps=self.hp.adam_eps)
        return super().make_optimizer(params, lr)

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        loss, logs = super().g_loss(batch, ctx)
        if self.hp.ortho_weight > 0:
            # Eq. 3 on G's weights; the shared embedding is left free, as in the authors' code
            shared = {id(p) for p in self.G.shared.parameters()} if self.G.shared else set()
            params = [p for p in self.G.parameters() if id(p) not in shared]
            ortho = orthogonal_penalty(params, self.hp.ortho_weight)
            logs = {**logs, "ortho": ortho.detach()}
            loss = loss + ortho
        return loss, logs

    @torch.no_grad()
    def generate(
        self,
        n: int,
        labels: Tensor | None = None,
        z: Tensor | None = None,
        truncation: float | None = None,
    ) -> Tensor:
        """n samples; ``truncation`` resamples latent entries with |z| above it; standing
        statistics first when ``standing_stats`` > 0."""
        if self.hp.standing_stats > 0:
            standing_generator_statistics(self, self.hp.standing_stats, self.hp.standing_batch)
        if z is None:
            z = self.latent.sample(n, self.device)
        if truncation is not None:
            z = truncate_latent(z.to(self.device), truncation)
        return super().generate(n, labels, z)
