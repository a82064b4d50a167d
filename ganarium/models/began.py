"""BEGAN (Berthelot et al. 2017, "BEGAN: Boundary Equilibrium Generative Adversarial Networks"):
an auto-encoder critic with L1 reconstruction loss L(v) = |v - D(v)| (Eq. 1), trained as
    L_D = L(x) - k_t L(G(z_D)),   L_G = L(G(z_G)),
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1)          (Eq. 4)
a proportional controller holding the equilibrium E L(G(z)) = gamma E L(x) (diversity ratio
gamma), and the convergence measure M_global = L(x) + |gamma L(x) - L(G(z_G))| (Sec. 3.4.1),
logged every step. G and D are ELU decoder/auto-encoder nets without batch norm (Sec. 3.5):
compact ones by default (``net='autoencoder'``, one convolution per scale), the paper's with
``net='began'`` (two convolutions per scale, Fig. 1); ``z_dist='uniform'`` draws z from U(-1, 1)
as the paper does (the ``celeba-128`` preset sets both)."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import (
    Batch,
    Capabilities,
    LearningCheck,
    Phase,
    StepContext,
    StepOutput,
    register,
)
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.nets.autoencoder import AutoencoderCritic, AutoencoderGenerator
from ganarium.nets.began import BEGANCritic, BEGANGenerator
from ganarium.nets.dcgan import UniformLatent

BEGAN_CHECK: dict[str, Any] = {
    **DIGITS_CHECK,
    "kind": "began-convergence",
    "train": {**DIGITS_CHECK["train"], "log_every": 1},  # M_global of every step, for the check
    "model": dict(g_width=64, d_width=64, z_dim=32, code_dim=64, lambda_k=0.01, gamma=1.0),
    "reason": "slow (width 64: at width 32 every setting tried stays above FID 200 with 2-6 "
    "classes); lambda_k 0.01 instead of 0.001 so k_t moves within 600 steps; gamma 1.0 (the "
    "paper explores 0.3-0.7; at 0.75 the check covers 8 classes)",
    "slow": True,
}


@register(
    "began",
    paper="BEGAN: Boundary Equilibrium Generative Adversarial Networks",
    year=2017,
    family="loss",
    data=("unconditional", "labelled"),
    check=LearningCheck(**BEGAN_CHECK),
)
class BEGAN(AdversarialRecipe):
    defaults = {
        **AdversarialRecipe.defaults,
        "net": "autoencoder",
        "z_dim": 64,
        "g_width": 64,
        "d_width": 64,
        "code_dim": 64,
        "g_norm": "none",
        "d_norm": "none",
        "gamma": 0.5,
        "lambda_k": 1e-3,
        "lr_g": 1e-4,
        "lr_d": 1e-4,
        "betas": (0.5, 0.999),
        "z_dist": "normal",
    }
    hparam_help = {
        "net": "autoencoder (compact: one convolution per scale) or began (the paper's nets: two "
        "convolutions per scale, channels growing by width at each down-sampling)",
        "z_dist": "distribution of G's latent z: normal (N(0, I)) or uniform (U(-1, 1), the paper's)",
        "code_dim": "size of the auto-encoder critic's bottleneck",
        "gamma": "diversity ratio: the equilibrium E L(G(z)) = gamma E L(x)",
        "lambda_k": "learning rate of the k_t controller",
    }

    def build(self, info: DataInfo) -> None:
        ninfo = self.net_info(info)
        if self.hp.z_dist not in ("normal", "uniform"):
            raise ConfigError(f"model.z_dist={self.hp.z_dist!r}: use normal or uniform")
        if self.hp.net == "began":
            self.build_paper_nets(ninfo)
        elif self.hp.net == "autoencoder":
            self.build_compact_nets(ninfo)
        else:
            raise ConfigError(f"began's model.net={self.hp.net!r}: use autoencoder or began")
        if self.hp.z_dist == "uniform":
            self.G = UniformLatent(self.G)
        # k_t is training state: a buffer, so checkpoints and resumes carry it
        self.register_buffer("k", torch.zeros(()))
        self._state: dict[str, Tensor] = {}

    def build_paper_nets(self, ninfo: DataInfo) -> None:
        """Fig. 1's nets: G with the decoder's architecture, D an encoder-decoder."""
        self.G = BEGANGenerator(
            ninfo, z_dim=self.hp.z_dim, width=self.hp.g_width, norm=self.hp.g_norm
        )
        self.D = BEGANCritic(
            ninfo, width=self.hp.d_width, norm=self.hp.d_norm, code_dim=self.hp.code_dim
        )

    def build_compact_nets(self, ninfo: DataInfo) -> None:
        self.G = AutoencoderGenerator(
            ninfo,
            z_dim=self.hp.z_dim,
            width=self.hp.g_width,
            norm=self.hp.g_norm,
        )
        self.D = AutoencoderCritic(
            ninfo,
            width=self.hp.d_width,
            norm=self.hp.d_norm,
            code_dim=self.hp.code_dim,
            energy="l1",
            act="elu",
        )

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), signals=("M_global", "k_t"))

    def phases(self) -> list[Phase]:
        return [Phase("D", self.d_loss, "D"), Phase("G", self.g_loss, "G", real=False)]

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, _ = self.d_fakes(batch)
        e_real, e_fake = self.D(self.augmenter(batch["image"])), self.D(self.augmenter(fake))
        # ADA's sign(D(real)): a real counts as judged real when its loss is below the fakes'
        self.augmenter.observe((e_fake.mean() - e_real).detach())
        l_real, l_fake = e_real.mean(), e_fake.mean()
        ctx.shared["L_real"] = l_real.detach()  # for the k_t update of this step's G phase
        return l_real - self.k * l_fake, {"L_real": l_real.detach(), "L_fake": l_fake.detach()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, _ = self.fake_batch(batch)
        l_fake = self.D(self.augmenter(fake)).mean()
        l_real = ctx.shared["L_real"]
        with torch.no_grad():
            balance = self.hp.gamma * l_real - l_fake.detach()
            self.k.add_(self.hp.lambda_k * balance).clamp_(0.0, 1.0)
            m_global = l_real + balance.abs()
        self._state = {"k_t": self.k.detach().clone(), "M_global": m_global}
        return l_fake, {"M_global": m_global, "k_t": self.k.detach().clone()}

    def learning_state(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._state.items()}
