"""The shared two-player recipe: a generator and a discriminator from one net family, trained
with a named adversarial loss. Loss-family recipes (DCGAN, LSGAN, WGAN, ...) are this class
with other defaults plus, at most, a penalty or a post-step hook."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.losses import LOSSES
from ganarium.models import (
    Batch,
    Capabilities,
    Phase,
    Preview,
    Recipe,
    StepContext,
    StepOutput,
)
from ganarium.nets import NETS
from ganarium.nets.own import NetContract, build_own_nets, is_own

# what a recipe computes itself when it overrides these (own losses, own players, own fakes)
OWN_STEP_METHODS = ("d_loss", "g_loss", "phases", "configure_optimizers")
FRESH_FAKE_METHODS = ("d_loss", "g_loss", "phases", "d_fakes", "fake_batch")


class AdversarialRecipe(Recipe):
    """G(z[, y]) vs D(x[, y]) with ``loss``; ``n_critic`` D steps per G step.

    ``net='auto'`` picks ``mlp`` for vector data and ``auto_image_net`` for images.
    Width/``None`` hyper-parameters fall back to the net family's own defaults.
    ``net='pkg.module:factory'`` builds the user's own G and D (``ganarium.nets.own``), which
    must meet ``own_net_contract``; subclasses that need more (heads on D's features) extend it.
    ``reuse_fakes`` trains G on the fakes the D phase drew (one G forward per step).
    """

    own_net_contract: ClassVar[NetContract] = NetContract()
    # None: own nets are taken unless the class computes its own losses or players
    own_nets: ClassVar[bool | None] = None

    auto_image_net: ClassVar[str] = "dcgan"
    defaults: ClassVar[dict[str, Any]] = dict(
        **Recipe.defaults,
        net="auto",
        z_dim=100,
        g_width=None,
        d_width=None,
        g_norm="batch",
        d_norm="batch",
        g_cond="concat",
        d_cond="none",
        conditional=False,
        loss="non-saturating",
        optimizer="adam",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        n_critic=1,
        reuse_fakes=False,
    )

    hparam_help: ClassVar[dict[str, str]] = dict(
        net="net family of G and D (dcgan, resnet, mlp, ...; auto: mlp for vectors, else the "
        "recipe's image nets)",
        z_dim="size of the latent noise z",
        g_width="G's channel width (None: the net family's default)",
        d_width="D's channel width (None: the net family's default)",
        g_norm="normalization in G: batch, layer, instance, spectral or none",
        d_norm="normalization in D: batch, layer, instance, spectral or none",
        g_cond="how labels enter G: concat, hadamard or cbn (conditional batch norm)",
        d_cond="how labels enter D: none, concat or projection",
        conditional="train and sample with class labels",
        loss="adversarial loss: minimax, non-saturating, wasserstein, least-squares, hinge, "
        "relativistic or energy",
        optimizer="adam or rmsprop",
        lr_g="G's learning rate",
        lr_d="D's learning rate",
        betas="Adam's (beta1, beta2)",
        n_critic="D steps per G step",
        reuse_fakes="train G on the fakes of the D phase (G runs once per step, its graph kept "
        "for the G phase) instead of drawing new ones; needs n_critic=1",
    )

    # -- nets ------------------------------------------------------------------------------
    def net_family_name(self, info: DataInfo) -> str:
        net = self.hp.net
        if net == "auto":
            return "mlp" if info.kind == "vector" else self.auto_image_net
        return net

    def net_info(self, info: DataInfo) -> DataInfo:
        """The DataInfo the nets see: labels only reach them when the recipe is conditional."""
        return info if self.hp.conditional else dataclasses.replace(info, num_classes=0)

    def overridden(self, names: tuple[str, ...]) -> list[str]:
        """Which of these methods this recipe's class defines itself."""
        return [n for n in names if getattr(type(self), n) is not getattr(AdversarialRecipe, n)]

    def net_options(self) -> dict[str, Any]:
        """The options handed to an own-net factory with the DataInfo."""
        keys = ("z_dim", "g_width", "d_width", "g_norm", "d_norm", "g_cond", "d_cond")
        return {k: getattr(self.hp, k) for k in keys} | {"conditional": self.hp.conditional}

    def build_own(self, info: DataInfo) -> None:
        own = self.own_nets
        mine = self.overridden(OWN_STEP_METHODS)
        if own is False or (own is None and mine):
            why = f" (it defines its own {', '.join(mine)})" if mine else ""
            raise ConfigError(
                f"recipe {self.name!r} does not take own nets{why}: model.net={self.hp.net} "
                "works with recipes that train AdversarialRecipe's G and D, e.g. dcgan"
            )
        nets = build_own_nets(
            self.hp.net, self.net_info(info), self.net_options(), self.own_net_contract, self.name
        )
        self.G, self.D = nets["G"], nets["D"]
        self.adv = LOSSES.get(self.hp.loss)

    def check_reuse_fakes(self) -> None:
        if not self.hp.reuse_fakes:
            return
        if self.hp.n_critic != 1:
            raise ConfigError(
                f"model.reuse_fakes needs n_critic=1 (got {self.hp.n_critic}): each D step "
                "needs fresh fakes"
            )
        mine = self.overridden(FRESH_FAKE_METHODS)
        if mine:
            raise ConfigError(
                f"recipe {self.name!r} draws its fakes itself ({', '.join(mine)}): "
                "model.reuse_fakes is not available for it"
            )

    def build(self, info: DataInfo) -> None:
        self.check_reuse_fakes()
        if is_own(self.hp.net):
            self.build_own(info)
            return
        family = NETS.get(self.net_family_name(info))
        ninfo = self.net_info(info)
        g_kw: dict[str, Any] = {
            "z_dim": self.hp.z_dim,
            "norm": self.hp.g_norm,
            "cond": self.hp.g_cond,
        }
        d_kw: dict[str, Any] = {"norm": self.hp.d_norm, "cond": self.hp.d_cond}
        if self.hp.g_width is not None:
            g_kw["width"] = self.hp.g_width
        if self.hp.d_width is not None:
            d_kw["width"] = self.hp.d_width
        self.G = family.generator(ninfo, **g_kw)
        self.D = family.discriminator(ninfo, **d_kw)
        self.adv = LOSSES.get(self.hp.loss)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.make_optimizer(self.D.parameters(), self.hp.lr_d),
        }

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        if self.hp.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=tuple(self.hp.betas))
        if self.hp.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        raise ConfigError(f"unknown optimizer {self.hp.optimizer!r}: use adam or rmsprop")

    # -- training --------------------------------------------------------------------------
    def g_shows_real(self) -> bool:
        """Whether the G phase shows D real images (the relativistic loss does; BiGAN's pairs
        do), so that its batch counts as images seen; otherwise G uses it for its size only."""
        return self.hp.loss == "relativistic"

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D", repeat=self.hp.n_critic, after=self.after_d_step),
            Phase(
                "G",
                self.g_loss,
                "G",
                real=self.g_shows_real(),
                batch="D" if self.hp.reuse_fakes else None,
            ),
        ]

    def capabilities(self) -> Capabilities:
        return Capabilities(conditional=bool(self.hp.conditional), latent_dim=self.G.z_dim)

    def labels_of(self, batch: Batch) -> Tensor | None:
        return batch["label"] if self.hp.conditional else None

    def fake_batch(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        y = self.labels_of(batch)
        z = self.G.sample_z(batch["image"].shape[0], batch["image"].device)
        return self.G(z, y), y

    def d_fakes(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        """Fakes for a D step: G's graph is not built, since D's loss never reaches G."""
        with torch.no_grad():
            return self.fake_batch(batch)

    def reused_fakes(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Tensor | None]:
        """reuse_fakes: fakes drawn with G's graph, left in ``ctx.shared`` for this step's G
        phase (G's weights do not change in between), detached for D."""
        frozen = [p for p in self.G.parameters() if not p.requires_grad]
        for p in frozen:
            p.requires_grad_(True)
        try:
            fake, y = self.fake_batch(batch)
        finally:
            for p in frozen:
                p.requires_grad_(False)
        ctx.shared["fakes"] = (fake, y)
        return fake.detach(), y

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        fake, y = self.reused_fakes(batch, ctx) if self.hp.reuse_fakes else self.d_fakes(batch)
        d_real, d_fake = self.D(self.augmenter(real), y), self.D(self.augmenter(fake), y)
        self.augmenter.observe(d_real.detach())
        loss = self.adv.d(d_real, d_fake)
        logs = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        penalty = self.d_penalty(real, fake, y)
        if penalty is not None:
            logs["penalty"] = penalty.detach()
            loss = loss + penalty
        return loss, logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, y = ctx.shared.pop("fakes") if self.hp.reuse_fakes else self.fake_batch(batch)
        d_fake = self.D(self.augmenter(fake), y)
        relativistic = self.hp.loss == "relativistic"
        d_real = self.D(self.augmenter(batch["image"]), y).detach() if relativistic else None
        return self.adv.g(d_fake, d_real), {}

    def d_penalty(self, real: Tensor, fake: Tensor, y: Tensor | None) -> Tensor | None:
        """A regularizer added to D's loss (gradient penalties); none by default."""
        return None

    def after_d_step(self, ctx: StepContext) -> None:
        """Hook after each D optimizer step (weight clipping); nothing by default."""

    # -- sampling --------------------------------------------------------------------------
    def preview(self, n: int, examples: Batch | None = None) -> Preview | None:
        """Conditional recipes lay their grid out a class per column (labels cycle 0..K-1)."""
        preview = super().preview(n, examples)
        k = self.info.num_classes
        if preview is not None and self.hp.conditional and 2 <= k <= 16:
            return Preview(preview.images, k)
        return preview

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        if z is None:
            z = self.net_for_sampling("G").sample_z(n, self.device)
        return self.decode(z, labels)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z[, y]) with the sampling generator (the EMA copy when kept) in eval mode;
        differentiable in z. Conditional recipes cycle labels 0..K-1 when none are given."""
        G = self.net_for_sampling("G")
        was_training = G.training
        G.eval()
        try:
            if self.hp.conditional:
                labels = self.default_labels(len(z)) if labels is None else labels.to(self.device)
            else:
                labels = None
            return G(z.to(self.device), labels)
        finally:
            G.train(was_training)
