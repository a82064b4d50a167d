"""LAPGAN (Denton et al. 2015, "Deep Generative Image Models using a Laplacian Pyramid of
Adversarial Networks"): a Laplacian pyramid of GANs. The image I_0 is split into band-pass
residuals h_k = I_k - u(I_{k+1}), I_{k+1} = d(I_k) (Eq. 3); the coarsest level I_K is a plain GAN
G_K(z) and every finer level k a conditional GAN G_k(z_k, u(I_{k+1})) drawing the residual of
its resolution, its D_k judging (h_k, l_k) pairs (Eq. 4-5). Each level trains on the real
pyramid, independently (Sec. 3.2); samples are drawn coarse to fine,
I_k = u(I_{k+1}) + G_k(z_k, u(I_{k+1})) (Eq. 4). Each level's losses are logged under its own
phases (D8, G8, D16, G16, ...). The coarsest level is the DCGAN pair at ``coarsest`` pixels.

The latent of ``decode`` is all the sampling noise: z of the coarsest level, then one noise
plane per finer level, flattened.
"""

from __future__ import annotations

import dataclasses
import functools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.losses import bce_real
from ganarium.models import (
    Batch,
    Capabilities,
    LearningCheck,
    Phase,
    Recipe,
    StepContext,
    StepOutput,
    register,
)
from ganarium.nets import NETS, check_image
from ganarium.nets.lapgan import ResidualDiscriminator, ResidualGenerator, downsample, upsample


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
        reason="slow (about 60 CPU s; make test must stay under 20 minutes on 2 cores); "
        "1200 steps: at 800 seed 2 covered 8 classes (bar 9); at 1200 seeds 0 / 1 / 2 "
        "cover 9 / 10 / 9",
    ),
)
class LAPGAN(Recipe):
    defaults = dict(
        **Recipe.defaults,
        z_dim=100,
        coarsest=8,
        g_width=64,
        d_width=64,
        lr=2e-4,
        betas=(0.5, 0.999),
    )
    hparam_help = dict(
        z_dim="size of the coarsest level's latent z",
        coarsest="resolution of the coarsest level, a plain GAN (each finer level doubles it)",
        g_width="channels of each level's generator",
        d_width="channels of each level's discriminator",
        lr="Adam's learning rate for every net",
        betas="Adam's (beta1, beta2)",
    )

    def build(self, info: DataInfo) -> None:
        check_image(info, "lapgan")
        sizes, r = [], info.resolution
        while r > self.hp.coarsest and r % 2 == 0:
            sizes.insert(0, r)
            r //= 2
        if r != self.hp.coarsest:
            raise ConfigError(
                f"lapgan: resolution {info.resolution} is not coarsest={self.hp.coarsest} times "
                "a power of 2: set model.coarsest to 4 or 8, or data.size to 16 or 32"
            )
        self.sizes = [r, *sizes]  # coarse to fine
        c = info.channels
        coarse = dataclasses.replace(info, shape=(c, r, r), num_classes=0)
        family = NETS.get("dcgan")
        self.G = nn.ModuleDict(
            {str(r): family.generator(coarse, z_dim=self.hp.z_dim, width=self.hp.g_width)}
        )
        self.D = nn.ModuleDict({str(r): family.discriminator(coarse, width=self.hp.d_width)})
        for s in sizes:
            self.G[str(s)] = ResidualGenerator(c, self.hp.g_width)
            self.D[str(s)] = ResidualDiscriminator(c, s, self.hp.d_width)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        adam = functools.partial(torch.optim.Adam, lr=self.hp.lr, betas=tuple(self.hp.betas))
        opts = {}
        for s in map(str, self.sizes):
            opts[f"D{s}"], opts[f"G{s}"] = (
                adam(self.D[s].parameters()),
                adam(self.G[s].parameters()),
            )
        return opts

    def phases(self) -> list[Phase]:
        first = f"D{self.sizes[0]}"
        out = []
        for i, s in enumerate(self.sizes):  # one batch per step: every level sees its pyramid
            d_loss, g_loss = functools.partial(self.d_loss, s), functools.partial(self.g_loss, s)
            out.append(Phase(f"D{s}", d_loss, f"D{s}", batch=first if i else None))
            out.append(Phase(f"G{s}", g_loss, f"G{s}", batch=first))
        return out

    def capabilities(self) -> Capabilities:
        return Capabilities(latent_dim=self.hp.z_dim + sum(s * s for s in self.sizes[1:]))

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
        if size == self.sizes[0]:
            return G(G.sample_z(n, x.device)), None
        _, low = self.real_pair(x, size)
        return G(torch.randn(n, 1, size, size, device=x.device), low), low

    def critic(self, size: int, h: Tensor, low: Tensor | None) -> Tensor:
        pair = h if low is None else torch.cat([h, low], 1)
        return self.D[str(size)](self.augmenter(pair))

    def d_loss(self, size: int, batch: Batch, ctx: StepContext) -> StepOutput:
        h_real, low = self.real_pair(batch["image"], size)
        with torch.no_grad():
            h_fake, _ = self.fake_pair(batch["image"], size)
        d_real, d_fake = self.critic(size, h_real, low), self.critic(size, h_fake, low)
        self.augmenter.observe(d_real.detach())
        loss = bce_real(d_real) + F.softplus(d_fake).mean()
        return loss, {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}

    def g_loss(self, size: int, batch: Batch, ctx: StepContext) -> StepOutput:
        h_fake, low = self.fake_pair(batch["image"], size)
        return bce_real(self.critic(size, h_fake, low)), {}

    # -- sampling ----------------------------------------------------------------------------
    def pyramid(self, z: Tensor) -> list[Tensor]:
        """Samples at every level, coarse to fine, each in [-1, 1], from the latent z."""
        G = self.net_for_sampling("G")
        was = G.training
        G.eval()
        try:
            z = z.to(self.device)
            n = len(z)
            image = G[str(self.sizes[0])](z[:, : self.hp.z_dim]).clamp(-1, 1)
            levels, offset = [image], self.hp.z_dim
            for s in self.sizes[1:]:
                noise = z[:, offset : offset + s * s].reshape(n, 1, s, s)
                offset += s * s
                low = upsample(image)
                image = (low + G[str(s)](noise, low)).clamp(-1, 1)
                levels.append(image)
            return levels
        finally:
            G.train(was)

    @torch.no_grad()
    def pyramid_samples(self, n: int) -> list[Tensor]:
        """n samples at every level, coarse to fine (the check compares them)."""
        return self.pyramid(torch.randn(n, self.capabilities().latent_dim, device=self.device))

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        if z is None:
            z = torch.randn(n, self.capabilities().latent_dim, device=self.device)
        return self.decode(z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.pyramid(z)[-1]
