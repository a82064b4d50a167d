"""StackGAN (Zhang et al. 2017, "StackGAN: Text to Photo-realistic Image Synthesis with Stacked
Generative Adversarial Networks"): text to image in two stages. A caption's embedding phi_t is
turned into a condition c ~ N(mu(phi_t), Sigma(phi_t)) by conditioning augmentation, with
lambda KL(N(mu, Sigma) || N(0, I)) added to each generator's loss (Eq. 2 and 4, lambda = 1).
Stage I draws a low-resolution image from (z, c_0); stage II refines it to twice the resolution
from (stage-I image, c), with a conditioning augmentation of its own (Sec. 3.3). Each stage's
D is matching-aware (Eq. 3 and 5): real images with their own caption are real, real images
with another image's caption and generated images are fake (the mismatched pair and the fake
weighted 1/2 each, as in the authors' code). Stage II learns on the current stage I's outputs
(detached: stage II does not train stage I); both stages train from the start.

The text encoder is the project's own, trained alongside (phase T) by a contrastive joint
embedding with an image encoder (``nets.stackgan``); the GAN phases read its embeddings
detached, as StackGAN reads fixed pretrained ones. Captions come from ``digit-captions``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.captions import Captions
from ganarium.capabilities.latent import Latent
from ganarium.capabilities.stages import Stages
from ganarium.data import DataInfo
from ganarium.data.captions import caption_text, tokenize_all
from ganarium.errors import DataError
from ganarium.hparams import adam_betas, learning_rate, loss_weight, size
from ganarium.latent import LatentSpec
from ganarium.models import (
    Batch,
    LearningCheck,
    Phase,
    Recipe,
    StepContext,
    StepOutput,
    eval_mode,
    register,
)
from ganarium.nets.stackgan import (
    ImageEncoder,
    MatchingDiscriminator,
    StageOneGenerator,
    StageTwoGenerator,
    TextEncoder,
    kl_to_standard_normal,
)
from ganarium.techniques.losses import bce_real, joint_embedding_loss

STAGES = (1, 2)  # stage I at half the data's resolution, stage II at the data's


@register(
    "stackgan",
    paper="StackGAN: Text to Photo-realistic Image Synthesis with Stacked GANs",
    year=2017,
    family="text-to-image",
    data=("captioned",),
    check=LearningCheck(
        kind="stackgan-captions",
        data="digit-captions",
        data_options=dict(size=16),
        steps=3000,
        model=dict(z_dim=32, c_dim=16, embedding_dim=64, g_width=32, d_width=32, lr=6e-4),
        train=dict(batch_size=64),
        bars=dict(fid_ratio=0.5, classes_covered=9, caption_class=0.85, thickness_spearman=0.5),
        reason="slow (3000 steps): the samples follow the caption's words only slowly. lr 6e-4, "
        "3x the paper's 2e-4, for these small nets: at 3000 steps the class word is read in 69% "
        "of samples with 2e-4, 85% with 4e-4 (86% at 4000) and 91% with 6e-4 (bar 85%)",
        slow=True,
    ),
)
class StackGAN(Latent, Captions, Stages, Recipe):
    ema_nets = ("G1", "G2")

    @dataclass
    class Hparams(Recipe.Hparams):
        z_dim: int = size(100, "size of stage I's noise z")
        c_dim: int = size(128, "size of the condition c drawn by conditioning augmentation")
        embedding_dim: int = size(128, "size of the text (and image) embedding")
        g_width: int = size(64, "channels of the stage-I and stage-II generators")
        d_width: int = size(64, "channels of both discriminators")
        kl_weight: float = loss_weight(1.0, "lambda of the conditioning augmentation's KL term")
        lr: float = learning_rate(
            0.0002, "Adam's learning rate for the generators and discriminators"
        )
        lr_text: float = learning_rate(
            0.001, "Adam's learning rate for the text and image encoders"
        )
        betas: tuple[float, float] = adam_betas(
            (0.5, 0.999), "Adam's (beta1, beta2) for the GAN players"
        )

    def build(self, info: DataInfo) -> None:
        self.vocabulary = list(info.extras.get("vocabulary") or [])
        if not self.vocabulary or info.kind != "image" or info.resolution % 8:
            raise DataError(
                f"stackgan needs captioned images with a resolution divisible by 8, but "
                f"{info.name!r} has {'no captions' if not self.vocabulary else info.shape}: "
                "use data digit-captions"
            )
        hp, half = self.hp, info.resolution // 2
        low = DataInfo(info.name, (info.channels, half, half))
        self.T = TextEncoder(len(self.vocabulary), hp.embedding_dim)
        self.E = ImageEncoder(info, hp.embedding_dim)
        self.G1 = StageOneGenerator(low, hp.z_dim, hp.c_dim, hp.g_width, hp.embedding_dim)
        self.G2 = StageTwoGenerator(info.channels, hp.c_dim, hp.g_width, hp.embedding_dim)
        self.D1 = MatchingDiscriminator(low, hp.embedding_dim, hp.d_width)
        self.D2 = MatchingDiscriminator(info, hp.embedding_dim, hp.d_width)
        # z, then the conditioning augmentation's noise of stage I and of stage II
        self.latent = LatentSpec(hp.z_dim + 2 * hp.c_dim)

    def players(self) -> dict[str, nn.Module]:
        """Each stage's D and G by player name (D1, G1, D2, G2); the encoders are player T."""
        return {f"{role}{s}": getattr(self, f"{role}{s}") for s in STAGES for role in ("D", "G")}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = tuple(self.hp.betas)
        encoders = [*self.T.parameters(), *self.E.parameters()]
        return {
            "T": torch.optim.Adam(encoders, lr=self.hp.lr_text),
            **{
                name: torch.optim.Adam(net.parameters(), lr=self.hp.lr, betas=betas)
                for name, net in self.players().items()
            },
        }

    def phases(self) -> list[Phase]:
        phases = [Phase("T", self.text_loss, "T")]
        for s in STAGES:
            for role, loss in (("D", self.d_loss), ("G", self.g_loss)):
                name = f"{role}{s}"
                phases.append(Phase(name, functools.partial(loss, s), name, batch="T"))
        return phases

    def learning_state(self) -> dict[str, float]:
        return self.augmenter.learning_state()

    # -- training ----------------------------------------------------------------------------
    def text_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        loss = joint_embedding_loss(self.T(batch["caption"]), self.E(batch["image"]))
        return loss, {}

    def stages(
        self, embedding: Tensor, latent: Tensor, G1=None, G2=None, upto: int = 2
    ) -> tuple[Tensor, ...]:
        """(stage-I images, mu, log sigma^2[, stage-II images, mu, log sigma^2]) from text
        embeddings and latents (z, CA noise of stage I, CA noise of stage II)."""
        z, n1, n2 = latent.split([self.hp.z_dim, self.hp.c_dim, self.hp.c_dim], 1)
        low, mu1, lv1 = (G1 or self.G1)(z, embedding, n1)
        if upto == 1:
            return low, mu1, lv1
        return (low, mu1, lv1, *(G2 or self.G2)(low.detach(), embedding, n2))

    def _embedding(self, batch: Batch) -> Tensor:
        with torch.no_grad():
            return self.T(batch["caption"])

    def _fake(self, batch: Batch, stage: int, emb: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Stage ``stage``'s fakes with their (mu, log sigma^2); stage I is never trained
        through stage II."""
        latent = self.latent.sample(len(emb), emb.device)
        if stage == 1:
            return self.stages(emb, latent, upto=1)
        return self.stages(emb, latent)[3:]

    def real_at(self, batch: Batch, stage: int) -> Tensor:
        x = batch["image"]
        return F.avg_pool2d(x, 2) if stage == 1 else x

    def d_loss(self, stage: int, batch: Batch, ctx: StepContext) -> StepOutput:
        D, emb = self.players()[f"D{stage}"], self._embedding(batch)
        real = self.real_at(batch, stage)
        with torch.no_grad():
            fake = self._fake(batch, stage, emb)[0]
        d_real = D(self.augmenter(real), emb)
        self.augmenter.observe(d_real.detach())
        d_wrong = D(self.augmenter(real), emb.roll(1, 0))  # real image, another's caption
        d_fake = D(self.augmenter(fake), emb)
        loss = bce_real(d_real) + 0.5 * (F.softplus(d_wrong).mean() + F.softplus(d_fake).mean())
        logs = {"d_real": d_real.detach().mean(), "d_wrong": d_wrong.detach().mean()}
        return loss, {**logs, "d_fake": d_fake.detach().mean()}

    def g_loss(self, stage: int, batch: Batch, ctx: StepContext) -> StepOutput:
        D, emb = self.players()[f"D{stage}"], self._embedding(batch)
        fake, mu, logvar = self._fake(batch, stage, emb)
        kl = kl_to_standard_normal(mu, logvar)
        return bce_real(D(self.augmenter(fake), emb)) + self.hp.kl_weight * kl, {"kl": kl.detach()}

    # -- sampling ----------------------------------------------------------------------------
    def caption_vocabulary(self) -> list[str]:
        return self.vocabulary[1:]

    def default_captions(self, n: int) -> list[str]:
        """Captions cycling the classes, then the thickness and the slant words."""
        return [caption_text(i % 10, (i // 10) % 3, (i // 30) % 3) for i in range(n)]

    def sample_stages(self, tokens: Tensor, latent: Tensor) -> tuple[Tensor, Tensor]:
        """(stage-I, stage-II) images in [-1, 1] for caption tokens (N, L) and latents."""
        G1, G2 = self.net_for_sampling("G1"), self.net_for_sampling("G2")
        with eval_mode(self.T, G1, G2):
            emb = self.T(tokens.to(self.device))
            out = self.stages(emb, latent.to(self.device), G1, G2)
        return out[0], out[3]

    def tokens(self, captions: list[str]) -> Tensor:
        """Caption texts -> token ids; unknown words raise one line listing the vocabulary."""
        return tokenize_all(captions, self.vocabulary)

    @torch.no_grad()
    def generate_from_captions(self, captions: list[str]) -> Tensor:
        tokens = self.tokens(captions)
        return self.sample_stages(tokens, self.latent.sample(len(tokens), self.device))[1]

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples for ``default_captions(n)`` (every class, thickness and slant)."""
        return self.decode(self.latent.sample(n, self.device) if z is None else z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.sample_stages(self.tokens(self.default_captions(len(z))), z)[1]
