"""BiGAN (Donahue et al. 2017, "Adversarial Feature Learning"): besides G: z -> x, an encoder
E: x -> z, and a discriminator on joint pairs that tells (x, E(x)) from (G(z), z) (Sec. 3):

    min_{G,E} max_D  E_x log D(x, E(x)) + E_z log(1 - D(G(z), z))

At the optimum E inverts G (Theorem 2), so E(x) is a learned representation of x and G(E(x))
reconstructs it. G and E share one optimizer and, as in the paper, minimise the game with the
labels inverted (the non-saturating form for both): -log D(G(z), z) - log(1 - D(x, E(x))).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities.encode import Encoder
from ganarium.data import DataInfo
from ganarium.hparams import hp, learning_rate, size
from ganarium.models import (
    Batch,
    LearningCheck,
    StepContext,
    StepOutput,
    eval_mode,
    register,
)
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.nets.encoders import Encoder as EncoderNet
from ganarium.nets.encoders import JointDiscriminator, family_body
from ganarium.nn.norms import NORMS

# a linear probe on E(x), against the same encoder untrained, and labels kept by G(E(x))
PROBE_CHECK: dict[str, Any] = dict(
    kind="representation-probe",
    data="digits",
    data_options=dict(size=16),
    steps=1000,
    model=dict(g_width=32, d_width=32, z_dim=16),
    train=dict(batch_size=64),
    bars=dict(probe_margin=0.10, label_kept=0.6),
    reason="z_dim 16, not the digit checks' 32: the probe reads the encoder's z, and an untrained "
    "encoder's 32-d output already scores 0.80-0.81 (16-d: 0.63-0.65); at 32 the trained "
    "encoders reach 0.85-0.87 at 1000 steps and O-GAN only 0.866 at 3000",
)


@register(
    "bigan",
    paper="Adversarial Feature Learning",
    year=2017,
    family="representation",
    data=("unconditional",),
    check=LearningCheck(**PROBE_CHECK, slow=True),
)
class BiGAN(Encoder, AdversarialRecipe):
    ema_nets = ("G", "E")  # G(E(x)) pairs the averaged encoder with the averaged generator

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        e_norm: str = hp("batch", "normalization in the encoder E", choices=NORMS)
        joint_width: int = size(256, "units of the joint discriminator's z path and joint layers")
        lr_e: float = learning_rate(0.0002, "the encoder's learning rate")

        def check(self) -> str | None:
            if self.conditional:
                return "it is unconditional: drop model.conditional"
            return super().check()

    def build(self, info: DataInfo) -> None:
        super().build(info)
        hp, net = self.hp, self.net_family_name(info)
        self.E = EncoderNet(family_body(info, net, hp.d_width, hp.e_norm), self.encoder_out_dim())
        spectral = hp.d_norm == "spectral"
        self.D = JointDiscriminator(
            family_body(info, net, hp.d_width, hp.d_norm), hp.z_dim, hp.joint_width, 2, spectral
        )

    def encoder_out_dim(self) -> int:
        return self.hp.z_dim

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        g = self.make_optimizer(
            [{"params": self.G.parameters()}, {"params": self.E.parameters(), "lr": self.hp.lr_e}],
            self.hp.lr_g,
        )
        return {"G": g, "D": self.make_optimizer(self.D.parameters(), self.hp.lr_d)}

    # -- the joint game --------------------------------------------------------------------
    def encoder_latent(self, x: Tensor) -> Tensor:
        """E's z for real x in training (BigBiGAN draws it from E's Gaussian)."""
        return self.E(x)

    def pairs(self, batch: Batch) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
        """((x, E(x)), (G(z), z)) for this batch."""
        x = batch["image"]
        z = self.latent.sample(len(x), x.device)
        return (x, self.encoder_latent(x)), (self.G(z), z)

    def scores(self, pair: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        x, z = pair
        return self.D(self.augmenter(x), z)

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        with torch.no_grad():
            enc, gen = self.pairs(batch)
        s_enc, s_gen = self.scores(enc)[0], self.scores(gen)[0]
        self.augmenter.observe(s_enc.detach())
        logs = {"d_encoder": s_enc.detach().mean(), "d_generator": s_gen.detach().mean()}
        return self.adv.d(s_enc, s_gen), logs

    def g_shows_real(self) -> bool:
        return True  # D scores (x, E(x)) pairs of real images in the G / E phase

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        enc, gen = self.pairs(batch)
        return self.adv.d(self.scores(gen)[0], self.scores(enc)[0]), {}  # labels inverted

    # -- encoding --------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """E(x) (B, z_dim) with the encoder in eval mode."""
        E = self.net_for_sampling("E")
        with eval_mode(E):
            return E(x.to(self.device))[:, : self.hp.z_dim]

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """G(E(x)) with the sampling generator."""
        return self.generate(len(x), z=self.encode(x))
