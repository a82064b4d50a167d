"""What StyleGAN and StyleGAN2 share: sampling through the mapping network, style-mixing
regularization, R1 as a phase of its own (lazy when ``r1_every`` > 1, with Adam optionally
corrected for it: ``techniques.lazy_regularization``), truncation in W, the style-mixing grid and
interpolation in W. The subclasses choose the nets and add phases. A conditional subclass
(``is_conditional()``) passes labels to the mapping network and to D; sampling cycles the
classes by default."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.conditional import Conditional
from ganarium.capabilities.latent import Latent
from ganarium.capabilities.mixing import StyleMixing
from ganarium.capabilities.truncation import Truncation
from ganarium.data import DataInfo
from ganarium.hparams import (
    adam_betas,
    fraction,
    learning_rate,
    loss_weight,
    positive,
    size,
    switch,
    whole,
)
from ganarium.latent import LatentSpec
from ganarium.models import Batch, Phase, Recipe, StepContext, StepOutput
from ganarium.models._cross_grid import cross_grid
from ganarium.techniques.lazy_regularization import lazy_adam
from ganarium.techniques.regularizers import r1_penalty

# the style-mixing grid: rows give the coarse styles (4x4 and 8x8), columns the fine ones
COARSE_LEVELS = 2


class StyleRecipe(Latent, Truncation, StyleMixing, Conditional, Recipe):
    """A style-based G (``self.G``: mapping + synthesis) against ``self.D`` with the
    non-saturating logistic loss, R1 on reals every ``r1_every`` steps (weighted by the
    interval, as lazy regularization prescribes) and style-mixing regularization. Its latent
    z (``self.latent``) is N(0, I) of ``z_dim``; truncation and mixing act in W."""

    @dataclass
    class Hparams(Recipe.Hparams):
        z_dim: int = size(512, "size of the latent z")
        w_dim: int = size(512, "size of the intermediate latent w")
        mapping_layers: int = whole(8, "dense layers of the mapping network z -> w")
        width: int = size(512, "channels at 4x4 and 8x8 (halving at each later resolution)")
        lr: float = learning_rate(
            0.002, "Adam's learning rate (the mapping network learns 100x slower, lr_mul 0.01)"
        )
        betas: tuple[float, float] = adam_betas((0.0, 0.99), "Adam's (beta1, beta2)")
        r1_gamma: float = loss_weight(
            10.0, "gamma of the R1 penalty gamma/2 E||grad D(x)||^2 on reals"
        )
        r1_every: int = whole(1, "R1 every this many steps (lazy regularization; 1: every step)")
        mixing_prob: float = fraction(
            0.9, "share of G steps that mix two latents' styles at a random layer"
        )
        group_size: int = size(4, "minibatch stddev group size")
        channel_base: int = whole(
            0,
            "channels at resolution r: min(channel_base / r, channel_max); 0: the width plan",
            minimum=0,
        )
        channel_max: int = size(512, "the most channels of any layer (with channel_base)")
        mapping_lr_mul: float = positive(0.01, "learning-rate multiplier of the mapping network")
        adam_correction: bool = switch(
            False, "lazy regularization's Adam correction: lr * c, betas ** c, c = k/(k+1)"
        )

    def make_nets(self, info: DataInfo) -> tuple[nn.Module, nn.Module]:
        raise NotImplementedError

    def build(self, info: DataInfo) -> None:
        self.latent = LatentSpec(self.hp.z_dim)
        self.G, self.D = self.make_nets(info)

    def reg_intervals(self) -> dict[str, int]:
        """Each player's lazy-regularization interval (the k of the Adam correction)."""
        return {"G": 1, "D": self.hp.r1_every}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        opts = {}
        for player, net in (("G", self.G), ("D", self.D)):
            every = self.reg_intervals()[player] if self.hp.adam_correction else 1
            lr, betas = lazy_adam(self.hp.lr, tuple(self.hp.betas), every)
            opts[player] = torch.optim.Adam(net.parameters(), lr=lr, betas=betas)
        return opts

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D"),
            Phase("R1", self.r1_loss, "D", every=self.hp.r1_every, batch="D"),
            Phase("G", self.g_loss, "G", real=False, images=False),
        ]

    def is_conditional(self) -> bool:
        """Whether G and D read class labels (a subclass option)."""
        return False

    def labels_of(self, batch: Batch) -> Tensor | None:
        """The batch's labels when conditional (fakes take the reals' label distribution)."""
        return batch["label"] if self.is_conditional() else None

    # -- training ----------------------------------------------------------------------------
    def map_z(self, G: nn.Module, z: Tensor, labels: Tensor | None, track: bool = False) -> Tensor:
        if labels is None:
            return G.mapping(z, track=track)
        return G.mapping(z, labels, track=track)

    def training_ws(self, n: int, device: torch.device, labels: Tensor | None = None) -> Tensor:
        """(n, num_ws, w_dim) ws of the live G, tracking w_avg; with probability mixing_prob
        the layers from a random crossover on take a second latent's w (Sec. 3.1)."""
        G = self.G
        ws = self.map_z(G, self.latent.sample(n, device), labels, track=True)
        ws = ws[:, None].repeat(1, G.num_ws, 1)
        if self.hp.mixing_prob > 0 and float(torch.rand(())) < self.hp.mixing_prob:
            cut = int(torch.randint(1, G.num_ws, ()))
            ws[:, cut:] = self.map_z(G, self.latent.sample(n, device), labels)[:, None]
        return ws

    def critic(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if labels is None:
            return self.D(self.augmenter(x))
        return self.D(self.augmenter(x), labels)

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real, labels = batch["image"], self.labels_of(batch)
        with torch.no_grad():
            fake = self.G.synthesis(self.training_ws(len(real), real.device, labels), "random")
        d_real, d_fake = self.critic(real, labels), self.critic(fake, labels)
        self.augmenter.observe(d_real.detach())
        loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        return loss, {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}

    def r1_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        labels = self.labels_of(batch)
        critic = self.critic if labels is None else (lambda x: self.critic(x, labels))
        r1 = r1_penalty(critic, batch["image"])
        return r1 * (self.hp.r1_gamma / 2) * self.hp.r1_every, {"r1": r1.detach()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        n, labels = len(batch["image"]), self.labels_of(batch)
        fake = self.G.synthesis(self.training_ws(n, batch["image"].device, labels), "random")
        return F.softplus(-self.critic(fake, labels)).mean(), {}

    # -- sampling ----------------------------------------------------------------------------
    def sampling_ws(
        self, z: Tensor, truncation: float | None = None, labels: Tensor | None = None
    ) -> Tensor:
        """(n, num_ws, w_dim) ws of the sampling G for latents z, truncated towards w_avg;
        conditional recipes cycle the classes when no ``labels`` are given."""
        G = self.net_for_sampling("G")
        if self.is_conditional():
            labels = self.default_labels(len(z)) if labels is None else labels.to(self.device)
        w = self.map_z(G, z.to(self.device), labels)
        if truncation is not None:
            w = G.mapping.truncate(w, float(truncation))
        return w[:, None].expand(-1, G.num_ws, -1)

    def synthesize(self, ws: Tensor) -> Tensor:
        """Images in [-1, 1] from ws with the sampling G and its fixed noise."""
        return self.net_for_sampling("G").synthesis(ws, "const").clamp(-1, 1)

    @torch.no_grad()
    def generate(
        self,
        n: int,
        labels: Tensor | None = None,
        z: Tensor | None = None,
        truncation: float | None = None,
    ) -> Tensor:
        """n samples; ``truncation`` psi pulls each w towards the mean w (psi 1: none)."""
        if z is None:
            z = self.latent.sample(n, self.device)
        return self.synthesize(self.sampling_ws(z, truncation, labels))

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.synthesize(self.sampling_ws(z, labels=labels))

    def coarse_layers(self) -> int:
        """ws read by the 4x4 and 8x8 layers (fewer when that would leave no fine layers)."""
        return min(2 * COARSE_LEVELS, self.G.num_ws - 2)

    @torch.no_grad()
    def mix(self, coarse_z: Tensor, fine_z: Tensor) -> Tensor:
        """Images with the coarse styles of ``coarse_z`` and the fine styles of ``fine_z``."""
        ws = self.sampling_ws(coarse_z).clone()
        cut = self.coarse_layers()
        ws[:, cut:] = self.sampling_ws(fine_z)[:, cut:]
        return self.synthesize(ws)

    @torch.no_grad()
    def style_mixing(self, rows: int = 4, cols: int = 4) -> tuple[Tensor, int]:
        """(rows+1) x (cols+1) grid: a blank corner, the column sources along the top, the row
        sources down the left; cell (r, c) has row r's coarse and column c's fine styles."""
        z_rows = self.latent.sample(rows, self.device)
        z_cols = self.latent.sample(cols, self.device)
        top, left = self.decode(z_cols), self.decode(z_rows)
        return cross_grid(top, left, lambda r: self.mix(z_rows[r : r + 1].expand(cols, -1), z_cols))

    @torch.no_grad()
    def interpolate(self, steps: int = 8, seeds: tuple[int, int] = (0, 1)) -> Tensor:
        """A linear walk in W between the ws of two seeded latents (the space StyleGAN's
        perceptual path length measures, Sec. 4.1)."""
        a, b = (self.latent.sample(1, "cpu", torch.Generator().manual_seed(s)) for s in seeds)
        wa, wb = self.sampling_ws(a), self.sampling_ws(b)
        t = torch.linspace(0, 1, steps, device=self.device)[:, None, None]
        return self.synthesize(wa + t * (wb - wa))
