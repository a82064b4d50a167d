"""StackGAN (Zhang et al. 2017, "StackGAN: Text to Photo-realistic Image Synthesis with Stacked
Generative Adversarial Networks"): text to image in two stages. A caption's embedding phi_t is
turned into a condition c ~ N(mu(phi_t), Sigma(phi_t)) by conditioning augmentation, with
lambda KL(N(mu, Sigma) || N(0, I)) added to each generator's loss (Eq. 2 and 4, lambda = 1).
Stage I draws a low-resolution image from (z, c_0); stage II refines it to twice the resolution
from (stage-I image, c), with a conditioning augmentation of its own (Sec. 3.3). Each stage's
D is matching-aware (Eq. 3 and 5, ``techniques/text_matching.py``). Stage II learns on the
current stage I's outputs (detached: stage II does not train stage I); both stages train from
the start.

The text encoder is the project's own, trained alongside (phase T) and read detached by the GAN
phases (``models/_captions.py``). Captions come from ``digit-captions``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.stages import Stages
from ganarium.data import DataInfo
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
from ganarium.models._captions import CaptionedRecipe
from ganarium.models._stages import adam_per_player, stage_phases
from ganarium.nets.stackgan import (
    MatchingDiscriminator,
    StageOneGenerator,
    StageTwoGenerator,
    kl_to_standard_normal,
)
from ganarium.techniques.losses import bce_real
from ganarium.techniques.text_matching import matching_aware_d, mismatched

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
        "3x the paper's 2e-4, for these small nets: with 2e-4 the class word is read in 69% of "
        "samples at 3000 steps (bar 85%)",
        slow=True,
    ),
)
class StackGAN(CaptionedRecipe, Stages, Recipe):
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
        self.read_vocabulary(info)
        if info.kind != "image" or info.resolution % 8:
            raise DataError(
                f"stackgan needs images with a resolution divisible by 8, got {info.name!r} of "
                f"shape {info.shape}: use data digit-captions"
            )
        hp, half = self.hp, info.resolution // 2
        low = DataInfo(info.name, (info.channels, half, half))
        self.build_text_encoder(info, hp.embedding_dim)
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
        players = adam_per_player(self.players(), self.hp.lr, self.hp.betas)
        return {"T": self.text_optimizer(self.hp.lr_text), **players}

    def phases(self) -> list[Phase]:
        """The encoders' phase T, then D1, G1, D2, G2 on T's batch."""
        text = Phase("T", self.text_loss, "T")
        return [text, *stage_phases(STAGES, self.d_loss, self.g_loss, batch="T")]

    # -- training ----------------------------------------------------------------------------
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

    def _fake(self, stage: int, emb: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Stage ``stage``'s fakes with their (mu, log sigma^2); stage I is never trained
        through stage II."""
        return self.stages(emb, self.latent.sample(len(emb), emb.device), upto=stage)[-3:]

    def d_loss(self, stage: int, batch: Batch, ctx: StepContext) -> StepOutput:
        D, emb, x = self.players()[f"D{stage}"], self.caption_embedding(batch), batch["image"]
        real = F.avg_pool2d(x, 2) if stage == 1 else x
        with torch.no_grad():
            fake = self._fake(stage, emb)[0]
        d_real = D(self.augmenter(real), emb)
        self.augmenter.observe(d_real.detach())
        d_wrong = D(self.augmenter(real), mismatched(emb))
        d_fake = D(self.augmenter(fake), emb)
        scores = {"d_real": d_real, "d_wrong": d_wrong, "d_fake": d_fake}
        loss = matching_aware_d(d_real, d_wrong, d_fake)
        return loss, {k: v.detach().mean() for k, v in scores.items()}

    def g_loss(self, stage: int, batch: Batch, ctx: StepContext) -> StepOutput:
        D, emb = self.players()[f"D{stage}"], self.caption_embedding(batch)
        fake, mu, logvar = self._fake(stage, emb)
        kl = kl_to_standard_normal(mu, logvar)
        return bce_real(D(self.augmenter(fake), emb)) + self.hp.kl_weight * kl, {"kl": kl.detach()}

    # -- sampling ----------------------------------------------------------------------------
    def sample_stages(self, tokens: Tensor, latent: Tensor) -> tuple[Tensor, Tensor]:
        """(stage-I, stage-II) images in [-1, 1] for caption tokens (N, L) and latents."""
        G1, G2 = self.net_for_sampling("G1"), self.net_for_sampling("G2")
        with eval_mode(self.T, G1, G2):
            emb = self.T(tokens.to(self.device))
            out = self.stages(emb, latent.to(self.device), G1, G2)
        return out[0], out[3]

    def images_for(self, tokens: Tensor, latent: Tensor) -> Tensor:
        return self.sample_stages(tokens, latent)[1]
