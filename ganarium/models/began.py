"""BEGAN (Berthelot et al. 2017, "BEGAN: Boundary Equilibrium Generative Adversarial Networks"):
an auto-encoder critic with L1 reconstruction loss L(v) = |v - D(v)| (Eq. 1), trained as
    L_D = L(x) - k_t L(G(z_D)),   L_G = L(G(z_G)),
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1)          (Eq. 4)
a proportional controller holding the equilibrium E L(G(z)) = gamma E L(x) (diversity ratio
gamma), and the convergence measure M_global = L(x) + |gamma L(x) - L(G(z_G))| (Sec. 3.4.1),
logged every step. G and D are ELU decoder/auto-encoder nets without batch norm (Sec. 3.5):
compact ones by default (``net='autoencoder'``, one convolution per scale), the paper's with
``net='began'`` (two convolutions per scale, Fig. 1); ``z_dist='uniform'`` draws z from U(-1, 1)
as the paper does (the ``celeba-128`` preset sets both).

The paper halves the learning rate "when the measure of convergence stalls" (Sec. 4.1) without a
number: ``lr_halve_patience`` halves both players' rates after that many steps without a new
lowest M_global, compared as means over windows of ``lr_halve_window`` steps (averaged over
processes), down to ``lr_halve_floor``. The rates are then set every step, so it replaces
``train.lr_schedule``; its state is extra state of checkpoints and ``lr_factor`` is logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganarium.capabilities.signals import Signals
from ganarium.data import DataInfo
from ganarium.hparams import fraction, hp, override, positive, size, whole
from ganarium.latent import DISTRIBUTIONS, LatentSpec
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.nets.autoencoder import AutoencoderCritic, AutoencoderGenerator
from ganarium.nets.began import BEGANCritic, BEGANGenerator
from ganarium.nets.dcgan import UniformLatent
from ganarium.techniques.schedules import StallHalving

BEGAN_NETS = ("autoencoder", "began")

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
class BEGAN(Signals, AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = hp(
            "autoencoder",
            "autoencoder (compact: one convolution per scale) or began (the paper's nets: two convolutions per scale, channels growing by width at each down-sampling)",
            choices=BEGAN_NETS,
        )
        z_dim: int = override(64)
        g_width: int = override(64)
        d_width: int = override(64)
        g_norm: str = override("none")
        d_norm: str = override("none")
        lr_g: float = override(0.0001)
        lr_d: float = override(0.0001)
        code_dim: int = size(64, "size of the auto-encoder critic's bottleneck")
        gamma: float = fraction(0.5, "diversity ratio: the equilibrium E L(G(z)) = gamma E L(x)")
        lambda_k: float = positive(0.001, "learning rate of the k_t controller")
        z_dist: str = hp(
            "normal",
            "distribution of G's latent z: normal (N(0, I)) or uniform (U(-1, 1), the paper's)",
            choices=DISTRIBUTIONS,
        )
        lr_halve_patience: int = whole(
            0,
            "steps without a new lowest M_global after which both learning rates halve (0: off); the rates are then set every step, replacing train.lr_schedule",
            minimum=0,
        )
        lr_halve_window: int = whole(
            1, "steps whose mean M_global is compared with the lowest (lr_halve_patience)"
        )
        lr_halve_floor: float = fraction(
            0.0, "the smallest learning-rate factor halving reaches (0: none)"
        )

    def make_generator(self, **options: Any) -> nn.Module:
        """G with the decoder's architecture: Fig. 1's (``net='began'``) or the compact one."""
        kw = dict(z_dim=self.hp.z_dim, width=self.hp.g_width, norm=self.hp.g_norm) | options
        if self.hp.net == "began":
            return BEGANGenerator(self.net_info(self.info), **kw)
        return AutoencoderGenerator(self.net_info(self.info), **kw)

    def make_discriminator(self, **options: Any) -> nn.Module:
        """The auto-encoder critic, whose energy is its L1 reconstruction error."""
        kw = dict(width=self.hp.d_width, norm=self.hp.d_norm, code_dim=self.hp.code_dim) | options
        if self.hp.net == "began":
            return BEGANCritic(self.net_info(self.info), **kw)
        return AutoencoderCritic(self.net_info(self.info), **kw, energy="l1", act="elu")

    def make_latent(self) -> LatentSpec:
        return LatentSpec(self.G.z_dim, self.hp.z_dist)

    def build(self, info: DataInfo) -> None:
        super().build(info)
        if self.hp.z_dist == "uniform":
            # a pass-through that keeps the parameter names (G.net.*) of checkpoints
            self.G = UniformLatent(self.G)
        # k_t is training state: a buffer, so checkpoints and resumes carry it
        self.register_buffer("k", torch.zeros(()))
        self._state: dict[str, Tensor] = {}
        hp = self.hp
        self.stall = StallHalving(hp.lr_halve_patience, hp.lr_halve_window, hp.lr_halve_floor)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        self.optimizers = super().configure_optimizers()
        return dict(self.optimizers)

    def follow_stall(self, ctx: StepContext) -> None:
        """Judge the last window of M_global, then set both rates at the factor reached."""
        if not self.hp.lr_halve_patience:
            return
        self.stall.close_before(ctx.step, ctx.mean_over_processes)
        for name, opt in self.optimizers.items():
            lr = self.hp.lr_g if name == "G" else self.hp.lr_d
            for group in opt.param_groups:
                group["lr"] = lr * self.stall.factor

    def extra_state(self) -> dict[str, Any]:
        return {"lr_halving": self.stall.state_dict()} if self.hp.lr_halve_patience else {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "lr_halving" in state:
            self.stall.load_state_dict(state["lr_halving"])

    def signal_names(self) -> tuple[str, ...]:
        return ("M_global", "k_t")

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D"),
            Phase("G", self.g_loss, "G", real=False, images=False),
        ]

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        self.follow_stall(ctx)
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
        if self.hp.lr_halve_patience:
            self.stall.add(m_global, ctx.step)
        return l_fake, {"M_global": m_global, "k_t": self.k.detach().clone()}

    def learning_state(self) -> dict[str, float]:
        state = {k: float(v) for k, v in self._state.items()}
        if self.hp.lr_halve_patience:
            state["lr_factor"] = self.stall.factor
        return state
