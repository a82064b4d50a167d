"""LAPGAN (Denton et al. 2015, "Deep Generative Image Models using a Laplacian Pyramid of
Adversarial Networks"): a Laplacian pyramid of GANs. The image I_0 is split into band-pass
residuals h_k = I_k - u(I_{k+1}), I_{k+1} = d(I_k) (Eq. 3); the coarsest level I_K is a plain GAN
G_K(z) and every finer level k a conditional GAN G_k(z_k, u(I_{k+1})) drawing the residual of
its resolution, its D_k judging (h_k, l_k) pairs (Eq. 4-5). Each level trains on the real
pyramid, independently (Sec. 3.2); samples are drawn coarse to fine,
I_k = u(I_{k+1}) + G_k(z_k, u(I_{k+1})) (Eq. 4). The coarsest level is the DCGAN pair at
``coarsest`` pixels; players and phases are named by level (D8, G8, D16, G16, ...).

The latent of ``decode`` is all the sampling noise: z of the coarsest level, then one noise
plane per finer level, flattened (``level_latents`` gives each level's part).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.latent import Latent
from ganarium.capabilities.pyramid import Pyramid
from ganarium.data import DataInfo
from ganarium.errors import DataError
from ganarium.hparams import adam_betas, learning_rate, size
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
from ganarium.models._stages import adam_per_player, stage_phases
from ganarium.nets import NETS, check_image
from ganarium.nets.lapgan import ResidualDiscriminator, ResidualGenerator, downsample, upsample
from ganarium.nn.progressive import doubling_sizes
from ganarium.techniques.losses import bce_real, minimax_d


@register(
    "lapgan",
    paper="Deep Generative Image Models using a Laplacian Pyramid of Adversarial Networks",
    year=2015,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(
        kind="lapgan-levels",
        data="digits",
        data_options=dict(size=16),
        steps=1200,
        model=dict(z_dim=32, g_width=32, d_width=32),
        train=dict(batch_size=64),
        bars=dict(fid_ratio=0.5, classes_covered=9),
        slow=True,
        reason="slow (about 60 CPU s); 1200 steps: at 800 seed 2 covered 8 classes (bar 9)",
    ),
)
class LAPGAN(Latent, Pyramid, Recipe):
    @dataclass
    class Hparams(Recipe.Hparams):
        z_dim: int = size(100, "size of the coarsest level's latent z")
        coarsest: int = size(
            8, "resolution of the coarsest level, a plain GAN (each finer level doubles it)"
        )
        g_width: int = size(64, "channels of each level's generator")
        d_width: int = size(64, "channels of each level's discriminator")
        lr: float = learning_rate(0.0002, "Adam's learning rate for every net")
        betas: tuple[float, float] = adam_betas((0.5, 0.999), "Adam's (beta1, beta2)")

    def build(self, info: DataInfo) -> None:
        check_image(info, "lapgan")
        hp, c = self.hp, info.channels
        sizes = doubling_sizes(hp.coarsest, info.resolution)
        if sizes is None:
            raise DataError(
                f"lapgan: resolution {info.resolution} is not coarsest={hp.coarsest} times "
                "a power of 2: set model.coarsest to 4 or 8, or data.size to 16 or 32"
            )
        self.sizes = sizes  # coarse to fine
        # each level's sampling noise: z at the coarsest, a noise plane at every finer level
        self.level_latents = [LatentSpec(hp.z_dim), *(LatentSpec(s * s) for s in sizes[1:])]
        self.latent = LatentSpec(sum(spec.dim for spec in self.level_latents))
        r, family = sizes[0], NETS.get("dcgan")
        coarse = dataclasses.replace(info, shape=(c, r, r), num_classes=0)
        self.G = nn.ModuleDict({str(r): family.generator(coarse, z_dim=hp.z_dim, width=hp.g_width)})
        self.D = nn.ModuleDict({str(r): family.discriminator(coarse, width=hp.d_width)})
        for s in sizes[1:]:
            self.G[str(s)] = ResidualGenerator(c, hp.g_width)
            self.D[str(s)] = ResidualDiscriminator(c, s, hp.d_width)

    def players(self) -> dict[str, nn.Module]:
        """Every level's D and G by player name (D8, G8, D16, G16, ...), coarse to fine."""
        nets = {"D": self.D, "G": self.G}
        return {f"{role}{s}": nets[role][str(s)] for s in self.sizes for role in nets}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return adam_per_player(self.players(), self.hp.lr, self.hp.betas)

    def phases(self) -> list[Phase]:
        """A D and a G phase per level, all on the step's one batch (each level its pyramid)."""
        return stage_phases(self.sizes, self.d_loss, self.g_loss)

    # -- training ----------------------------------------------------------------------------
    def real_pair(self, x: Tensor, size: int) -> tuple[Tensor, Tensor | None]:
        """The real image at ``size`` split into (residual h, condition l); l is None at the
        coarsest level, where h is the image itself."""
        image = F.adaptive_avg_pool2d(x, size) if x.shape[-1] != size else x
        if size == self.sizes[0]:
            return image, None
        low = upsample(downsample(image))
        return image - low, low

    def fake_pair(self, x: Tensor, size: int) -> tuple[Tensor, Tensor | None]:
        """G's residual at ``size``, conditioned on the real coarser image (training)."""
        n, G = len(x), self.G[str(size)]
        level = self.sizes.index(size)
        z = self.level_latents[level].sample(n, x.device)
        if level == 0:
            return G(z), None
        _, low = self.real_pair(x, size)
        return G(z.view(n, 1, size, size), low), low

    def critic(self, size: int, h: Tensor, low: Tensor | None) -> Tensor:
        pair = h if low is None else torch.cat([h, low], 1)
        return self.D[str(size)](self.augmenter(pair))

    def d_loss(self, size: int, batch: Batch, ctx: StepContext) -> StepOutput:
        h_real, low = self.real_pair(batch["image"], size)
        with torch.no_grad():
            h_fake, _ = self.fake_pair(batch["image"], size)
        d_real, d_fake = self.critic(size, h_real, low), self.critic(size, h_fake, low)
        self.augmenter.observe(d_real.detach())
        loss = minimax_d(d_real, d_fake)
        return loss, {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}

    def g_loss(self, size: int, batch: Batch, ctx: StepContext) -> StepOutput:
        h_fake, low = self.fake_pair(batch["image"], size)
        return bce_real(self.critic(size, h_fake, low)), {}

    # -- sampling ----------------------------------------------------------------------------
    def pyramid(self, z: Tensor) -> list[Tensor]:
        """Samples at every level, coarse to fine, each in [-1, 1], from the latent z."""
        G = self.net_for_sampling("G")
        z = z.to(self.device)
        parts = z.split([spec.dim for spec in self.level_latents], 1)
        with eval_mode(G):
            image = G[str(self.sizes[0])](parts[0]).clamp(-1, 1)
            levels = [image]
            for s, noise in zip(self.sizes[1:], parts[1:]):
                low = upsample(image)
                image = (low + G[str(s)](noise.reshape(len(z), 1, s, s), low)).clamp(-1, 1)
                levels.append(image)
        return levels

    @torch.no_grad()
    def pyramid_samples(self, n: int) -> list[Tensor]:
        """n samples at every level, coarse to fine (the check compares them)."""
        return self.pyramid(self.latent.sample(n, self.device))

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        if z is None:
            z = self.latent.sample(n, self.device)
        return self.decode(z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.pyramid(z)[-1]
