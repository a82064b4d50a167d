"""ProGAN (Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation"): G and D grow together from 4x4 to the data's resolution (4 -> 8 -> 16 -> 32 ...),
each new level faded in over ``fade_steps`` while alpha goes 0 -> 1 (Sec. 2, Fig. 2) and then
trained alone for ``stable_steps``; reals are shown at the current level's resolution, blended
the same way while fading in. WGAN-GP loss (lambda 10) plus the drift term eps E[D(x)^2]
(eps = 0.001, Sec. A.1), minibatch stddev (Sec. 3), equalized learning rate (Sec. 4.1), pixel
norm in G (Sec. 4.2), Adam(1e-3, 0, 0.99), n_critic 1.

Where training is comes from ``ctx.step`` (or ``ctx.images_seen``) alone (``GrowthPlan`` in
techniques/growth.py), so a resumed run continues at the right level; the level and alpha of the
last step are kept in buffers for sampling, and
``learning_state()`` reports them (``resolution``, ``alpha``), charted first and shown on the
progress bar. Samples of a lower level are upsampled (nearest) to the data's resolution.

The paper's schedule options: ``fade_kimg`` and ``stable_kimg`` count the fades and stable
stretches in real images, as the paper does (800k each), instead of steps; ``level_batch`` sets
the batch per resolution ("256=14,512=6,1024=3"; others keep ``train.batch_size``), which the
Trainer draws through ``batch_size_at`` and which needs the schedule in images;
``reset_optimizers`` clears Adam's moments whenever a fade-in starts or ends (the authors' reset
at a new level of detail) and ``level_lr`` sets the learning rate per resolution
("512=0.0015,1024=0.002"; others keep ``lr``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.capabilities.latent import Latent
from ganarium.capabilities.signals import Signals
from ganarium.data import DataInfo
from ganarium.hparams import (
    adam_betas,
    amount,
    learning_rate,
    loss_weight,
    parse_per_resolution,
    per_resolution,
    size,
    switch,
    whole,
)
from ganarium.latent import LatentSpec
from ganarium.models import (
    Batch,
    LearningCheck,
    Phase,
    Recipe,
    StepContext,
    StepOutput,
    register,
)
from ganarium.nets.progan import ProGANDiscriminator, ProGANGenerator
from ganarium.nn.progressive import GrowthSchedule
from ganarium.techniques.growth import GrowthPlan, reals_at, resolution_of
from ganarium.techniques.regularizers import gradient_penalty

PROGAN_CHECK = dict(
    kind="progan-growth",
    data="digits",
    data_options=dict(size=16),
    steps=2400,
    model=dict(z_dim=32, width=64, fade_steps=100, stable_steps=100),
    train=dict(batch_size=64),
    bars=dict(fid_ratio=0.5, classes_covered=9),
    reason="slow (about 700-900 CPU s): WGAN-GP with one D step per G step learns slowly, and at "
    "width 32 the 1200-step check stays at the untrained FID (246 vs 235); fades and stable "
    "stretches of 100 steps (the paper's 800k images each) so 2000 of the 2400 steps train at "
    "16x16. At 1800 steps seed 0 covered 7 classes on this CPU (FID 96) while seed 1 passed "
    "(63.8, 9 classes); at 2400, FID 63.3 / 47.2 with 9 / 10 classes on seeds 0 / 1",
    slow=True,
)


@register(
    "progan",
    paper="Progressive Growing of GANs for Improved Quality, Stability, and Variation",
    year=2018,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(**PROGAN_CHECK),
)
class ProGAN(Latent, Signals, Recipe):
    @dataclass
    class Hparams(Recipe.Hparams):
        z_dim: int = size(512, "size of the latent z")
        width: int = size(512, "channels at 4x4 and 8x8 (halving at each later level)")
        fade_steps: int = whole(
            0, "steps over which each new level fades in (0: split train.steps evenly)", minimum=0
        )
        stable_steps: int = whole(
            0,
            "steps each level trains alone after its fade (0: split train.steps evenly)",
            minimum=0,
        )
        lr: float = learning_rate(0.001, "Adam's learning rate for G and D")
        betas: tuple[float, float] = adam_betas((0.0, 0.99), "Adam's (beta1, beta2)")
        gp_weight: float = loss_weight(10.0, "lambda of the WGAN-GP gradient penalty")
        drift: float = loss_weight(0.001, "epsilon of the drift term eps * E[D(x)^2]")
        n_critic: int = whole(1, "D steps per G step")
        group_size: int = size(4, "minibatch stddev group size")
        channel_base: int = whole(
            0,
            "channels at resolution r: min(channel_base / r, channel_max); 0: the width plan (the authors' fmap_base 8192 is 16384 here)",
            minimum=0,
        )
        channel_max: int = size(512, "the most channels of any layer (with channel_base)")
        fused_from: int = whole(
            0,
            "fuse resampling and conv from this resolution on (the authors': 8; 0: never)",
            minimum=0,
        )
        reset_optimizers: bool = switch(
            False, "clear Adam's moments when a fade-in starts or ends (the authors' reset)"
        )
        fade_kimg: float = amount(
            0.0, "thousands of real images per fade-in (the paper's 800; 0: fade_steps)"
        )
        stable_kimg: float = amount(
            0.0, "thousands of real images per stable stretch (the paper's 800; 0: stable_steps)"
        )
        level_batch: str = per_resolution(
            "batch per resolution, e.g. '256=14,512=6,1024=3'; others use train.batch_size (needs fade_kimg and stable_kimg)",
            int,
            "256=14,512=6",
        )
        level_lr: str = per_resolution(
            "learning rate per resolution, e.g. '512=0.0015,1024=0.002'; others use lr (set each step, so it replaces train.lr_schedule)"
        )

        def check(self) -> str | None:
            if bool(self.fade_kimg) != bool(self.stable_kimg):
                return "set both fade_kimg and stable_kimg (the schedule in images), or neither"
            if self.level_batch and not self.fade_kimg:
                return (
                    "level_batch needs the schedule in images: set fade_kimg and stable_kimg "
                    "(the paper's 800 each)"
                )
            return None

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        self.latent = LatentSpec(hp.z_dim)
        channels = (hp.channel_base, hp.channel_max, hp.fused_from)
        self.G = ProGANGenerator(info, hp.z_dim, hp.width, *channels)
        self.D = ProGANDiscriminator(info, hp.width, hp.group_size, *channels)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.followed_step = -1  # the last step whose level settings were applied
        self.plan = GrowthPlan(
            self.G.levels,
            hp.lr,
            hp.fade_steps,
            hp.stable_steps,
            max(1, round(hp.fade_kimg * 1000)) if hp.fade_kimg else 0,
            max(1, round(hp.stable_kimg * 1000)) if hp.fade_kimg else 0,
            parse_per_resolution(hp.level_lr),
            parse_per_resolution(hp.level_batch, int),
            hp.reset_optimizers,
        )
        # the (level, alpha) of the last training step, for sampling; recomputed every step
        self.register_buffer("level", torch.zeros((), dtype=torch.long))
        self.register_buffer("alpha", torch.ones(()))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = tuple(self.hp.betas)
        self.optimizers = {
            "G": torch.optim.Adam(self.G.parameters(), lr=self.hp.lr, betas=betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=self.hp.lr, betas=betas),
        }
        return dict(self.optimizers)

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D", repeat=self.hp.n_critic),
            Phase("G", self.g_loss, "G", real=False, images=False),
        ]

    def signal_names(self) -> tuple[str, ...]:
        return ("resolution", "alpha")

    # -- growth ------------------------------------------------------------------------------
    def schedule(self, total_steps: int) -> GrowthSchedule:
        return self.plan.schedule(total_steps)

    def batch_size_at(self, step: int, images_seen: int) -> int | None:
        return self.plan.batch_size_at(images_seen)

    def stage(self, ctx: StepContext) -> tuple[int, float]:
        """(level, alpha) of this step, steering the optimizers once per step; kept in buffers
        (and so in checkpoints) for sampling and for the next step's reset."""
        stage = self.plan.stage_at(ctx.step, ctx.images_seen, ctx.total_steps)
        if self.plan.steers_optimizers and ctx.step != self.followed_step:
            self.followed_step = ctx.step
            last = (int(self.level), float(self.alpha))
            self.plan.steer(self.optimizers, ctx.step, stage, last)
        self.level.fill_(stage[0])
        self.alpha.fill_(stage[1])
        return stage

    def learning_state(self) -> dict[str, float]:
        return {
            "resolution": float(resolution_of(int(self.level))),
            "alpha": float(self.alpha),
            **self.augmenter.learning_state(),
        }

    # -- losses ------------------------------------------------------------------------------
    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        level, alpha = self.stage(ctx)
        real = reals_at(batch["image"], level, alpha)
        with torch.no_grad():
            fake = self.G(self.latent.sample(len(real), real.device), level, alpha)
        critic = lambda x: self.D(self.augmenter(x), level, alpha)  # noqa: E731
        d_real, d_fake = critic(real), critic(fake)
        self.augmenter.observe(d_real.detach())
        wasserstein = d_fake.mean() - d_real.mean()
        gp = gradient_penalty(critic, real, fake)
        drift = d_real.pow(2).mean()
        loss = wasserstein + self.hp.gp_weight * gp + self.hp.drift * drift
        return loss, {"wasserstein": -wasserstein.detach(), "gp": gp.detach()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        level, alpha = self.stage(ctx)
        fake = self.G(self.latent.sample(len(batch["image"]), batch["image"].device), level, alpha)
        return -self.D(self.augmenter(fake), level, alpha).mean(), {}

    # -- sampling ----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        z = self.latent.sample(n, self.device) if z is None else z
        return self.decode(z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) at the level training reached, upsampled to the data's resolution, in [-1, 1]."""
        G = self.net_for_sampling("G")
        x = G(z.to(self.device), int(self.level), float(self.alpha))
        size = self.info.resolution
        if x.shape[-1] != size:
            x = F.interpolate(x, size=(size, size), mode="nearest")
        return x.clamp(-1, 1)
