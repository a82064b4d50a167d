"""IC-GAN (Casanova et al. 2021, "Instance-Conditioned GAN"): G(z, h_i) and D(x, h_i) are
conditioned on the features h_i = f(x_i) of a real instance x_i, and D's real examples for h_i
are drawn from the instance's k nearest neighbours A_i (Eq. 1-2):

    min_G max_D  E_{x_i, x_n ~ U(A_i)} log D(x_n, h_i) + E_{x_i, z} log(1 - D(G(z, h_i), h_i))

so the samples for h_i follow its neighbourhood: a mixture of local densities around every
instance. Conditioning on an unseen image's features at sampling time
(``generate_from_instances``) transfers to new instances. The ``instances`` dataset serves the
(instance, neighbour) pairs; f is its pixel feature map (``ganarium.data.instances``), since
the paper's frozen self-supervised network cannot be had offline. ``generate(n)`` conditions on
instances drawn from a bank of training instance features the recipe keeps (``bank_size``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.capabilities.instances import Instances
from ganarium.data import DataInfo
from ganarium.data.instances import instance_features
from ganarium.errors import DataError
from ganarium.hparams import size, whole
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, eval_mode, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.nets.conditioned import VectorConditionedGenerator, VectorProjectionDiscriminator
from ganarium.techniques.losses import LOSSES


@register(
    "instance-gan",
    paper="Instance-Conditioned GAN",
    year=2021,
    family="conditional",
    data=("unconditional",),
    check=LearningCheck(
        kind="instance-neighbourhood",
        data="instances",
        data_options=dict(base="digits", size=16, k=10),
        # 2000 steps: at 1000 the class is kept for 0.78 / 0.76 (train / test instances)
        steps=2000,
        model=dict(g_width=32, d_width=32, z_dim=32),
        train=dict(batch_size=64),
        bars=dict(neighbourhood=0.3, class_kept=0.8),
        reason="slow (2000 steps and 2 x 1,000 conditioned samples to search); pixel features "
        "instead of the paper's self-supervised ones (none can be had offline)",
        slow=True,
    ),
)
class InstanceGAN(Instances, AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        embed_dim: int = size(64, "size of G's learned embedding of the instance features")
        bank_size: int = whole(1000, "training instances whose features generate(n) draws from")

        def check(self) -> str | None:
            if self.conditional:
                return "instance-gan conditions on instances, not labels: drop model.conditional"
            return super().check()

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        if info.kind != "image":
            raise DataError(f"instance-gan needs image data; {info.name!r} is {info.kind} data")
        cond_dim = instance_features(torch.zeros(1, *info.shape)).shape[1]
        self.G = VectorConditionedGenerator(
            self.make_generator(z_dim=hp.z_dim + hp.embed_dim, cond="none"),
            hp.z_dim,
            cond_dim,
            hp.embed_dim,
        )
        self.D = VectorProjectionDiscriminator(
            self.make_discriminator(cond="none"), cond_dim, hp.d_norm == "spectral"
        )
        self.adv = LOSSES.get(hp.loss)
        self.latent = self.make_latent()
        # features of training instances seen so far: what generate(n) conditions on
        self.register_buffer("bank", torch.zeros(hp.bank_size, cond_dim))
        self.register_buffer("bank_filled", torch.zeros((), dtype=torch.long))

    def _remember(self, h: Tensor) -> None:
        n, size = int(self.bank_filled), self.hp.bank_size
        if n < size:
            take = h[: size - n].detach()
            self.bank[n : n + len(take)] = take
            self.bank_filled += len(take)

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real, h = batch["image"], instance_features(batch["instance"])
        self._remember(h)
        with torch.no_grad():
            fake = self.G(self.latent.sample(len(real), real.device), h)
        d_real, d_fake = self.D(self.augmenter(real), h), self.D(self.augmenter(fake), h)
        self.augmenter.observe(d_real.detach())
        logs = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        return self.adv.d(d_real, d_fake), logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        h = instance_features(batch["instance"])
        fake = self.G(self.latent.sample(len(h), h.device), h)
        return self.adv.g(self.D(self.augmenter(fake), h)), {}

    # -- sampling --------------------------------------------------------------------------
    def _bank_rows(self, n: int, random: bool) -> Tensor:
        filled = int(self.bank_filled)
        if filled == 0:  # untrained: any unit vectors
            return F.normalize(torch.randn(n, self.bank.shape[1], device=self.device), dim=1)
        rows = torch.randint(filled, (n,)) if random else torch.arange(n) % filled
        return self.bank[rows.to(self.device)]

    def _decode(self, z: Tensor, h: Tensor) -> Tensor:
        G = self.net_for_sampling("G")
        with eval_mode(G):
            return G(z.to(self.device), h.to(self.device))

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples, each for a random training instance of the bank (with ``z`` given, for
        the bank's first instances, as ``decode``)."""
        h = self._bank_rows(n, random=z is None)
        z = self.latent.sample(n, self.device) if z is None else z
        return self._decode(z, h)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self._decode(z, self._bank_rows(len(z), random=False))

    def instance_condition(self, images: Tensor) -> Tensor:
        """Features h of conditioning images (B, C, H, W) in [-1, 1], resized to the data's
        shape first (any size; gray and RGB convert)."""
        c, size = self.info.shape[0], self.info.shape[-1]
        if images.dim() != 4 or images.shape[1] not in (1, 3) or c not in (1, 3):
            raise DataError(f"instances are (B, 1 or 3, H, W) images, got {tuple(images.shape)}")
        x = images.float().to(self.device)
        if x.shape[1] != c:
            x = x.mean(1, keepdim=True) if c == 1 else x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True).clamp(-1, 1)
        return instance_features(x)

    @torch.no_grad()
    def generate_from_instances(self, images: Tensor, n: int) -> Tensor:
        """n samples per conditioning image (B, C, H, W) -> (B * n, ...), grouped by image."""
        h = self.instance_condition(images).repeat_interleave(n, 0)
        return self._decode(self.latent.sample(len(h), self.device), h)
