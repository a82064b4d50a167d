"""The shared two-player recipe: a generator and one or more discriminators from one net family,
trained with a named adversarial loss. Loss-family recipes (DCGAN, LSGAN, WGAN, ...) are this
class with other defaults plus, at most, a penalty or a post-step hook; recipes with other or
more discriminators override ``build_discriminators`` and ``discriminators`` (GMAN)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ganarium.capabilities.conditional import Conditional
from ganarium.capabilities.latent import Latent
from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.hparams import adam_betas, hp, learning_rate, size, switch, whole
from ganarium.latent import LatentSpec
from ganarium.models import (
    Batch,
    Phase,
    Preview,
    Recipe,
    StepContext,
    StepOutput,
    eval_mode,
)
from ganarium.nets import NETS
from ganarium.nets.own import NetContract, build_own_nets, is_own
from ganarium.nn.norms import NORMS
from ganarium.techniques.losses import LOSSES, AdversarialLoss

# what a recipe computes itself when it overrides these (own losses, own players, own fakes)
OWN_STEP_METHODS = (
    "d_loss",
    "g_loss",
    "phases",
    "configure_optimizers",
    "build_discriminators",
    "discriminators",
)
FRESH_FAKE_METHODS = ("d_loss", "g_loss", "phases", "d_fakes", "fake_batch")

G_CONDS = ("concat", "hadamard", "cbn")
D_CONDS = ("none", "concat", "projection")
OPTIMIZERS = ("adam", "rmsprop")


def _known_net(name: str) -> bool:
    return name == "auto" or is_own(name) or name in NETS


class AdversarialRecipe(Latent, Conditional, Recipe):
    """G(z[, y]) vs D(x[, y]) with ``loss``; ``n_critic`` D steps per G step.

    ``net='auto'`` picks ``mlp`` for vector data and ``auto_image_net`` for images.
    Width/``None`` hyper-parameters fall back to the net family's own defaults.
    ``net='pkg.module:factory'`` builds the user's own G and D (``ganarium.nets.own``), which
    must meet ``own_net_contract``; subclasses that need more (heads on D's features) extend it.
    ``reuse_fakes`` trains G on the fakes the D phase drew (one G forward per step).

    The parts a recipe changes: ``make_generator`` / ``make_discriminator`` (other nets),
    ``build_discriminators`` with ``discriminators`` (several Ds: each gets its own optimizer
    and phase, and G's loss is their mean unless ``g_loss`` says otherwise), ``d_penalty``,
    ``after_d_step`` and ``fake_batch``.
    """

    own_net_contract: ClassVar[NetContract] = NetContract()
    # None: own nets are taken unless the class computes its own losses or players
    own_nets: ClassVar[bool | None] = None

    auto_image_net: ClassVar[str] = "dcgan"

    @dataclass
    class Hparams(Recipe.Hparams):
        net: str = hp(
            "auto",
            "net family of G and D (dcgan, resnet, mlp, ...; auto: mlp for vectors, else the recipe's image nets)",
            test=_known_net,
            rule="use auto, a net family (`ganarium list`) or pkg.module:factory for your own nets",
        )
        z_dim: int = size(100, "size of the latent noise z")
        g_width: int | None = size(None, "G's channel width (None: the net family's default)")
        d_width: int | None = size(None, "D's channel width (None: the net family's default)")
        g_norm: str = hp(
            "batch", "normalization in G: batch, layer, instance, spectral or none", choices=NORMS
        )
        d_norm: str = hp(
            "batch", "normalization in D: batch, layer, instance, spectral or none", choices=NORMS
        )
        g_cond: str = hp(
            "concat",
            "how labels enter G: concat, hadamard or cbn (conditional batch norm)",
            choices=G_CONDS,
        )
        d_cond: str = hp("none", "how labels enter D: none, concat or projection", choices=D_CONDS)
        conditional: bool = switch(False, "train and sample with class labels")
        loss: str = hp(
            "non-saturating",
            "adversarial loss: minimax, non-saturating, wasserstein, least-squares, hinge, relativistic or energy",
            choices=tuple(LOSSES.names()),
        )
        optimizer: str = hp("adam", "adam or rmsprop", choices=OPTIMIZERS)
        lr_g: float = learning_rate(0.0002, "G's learning rate")
        lr_d: float = learning_rate(0.0002, "D's learning rate")
        betas: tuple[float, float] = adam_betas((0.5, 0.999), "Adam's (beta1, beta2)")
        n_critic: int = whole(1, "D steps per G step")
        reuse_fakes: bool = switch(
            False,
            "train G on the fakes of the D phase (G runs once per step, its graph kept for the G phase) instead of drawing new ones; needs n_critic=1",
        )

        def check(self) -> str | None:
            if self.reuse_fakes and self.n_critic != 1:
                return (
                    f"model.reuse_fakes needs n_critic=1 (got {self.n_critic}): each D step "
                    "needs fresh fakes"
                )
            return None

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

    def make_generator(self, **options: Any) -> nn.Module:
        """A generator of the net family, with the g_* hyper-parameters (``options`` win)."""
        kw: dict[str, Any] = {
            "z_dim": self.hp.z_dim,
            "norm": self.hp.g_norm,
            "cond": self.hp.g_cond,
        }
        if self.hp.g_width is not None:
            kw["width"] = self.hp.g_width
        family = NETS.get(self.net_family_name(self.info))
        return family.generator(self.net_info(self.info), **(kw | options))

    def make_discriminator(self, **options: Any) -> nn.Module:
        """A discriminator of the net family, with the d_* hyper-parameters (``options`` win)."""
        kw: dict[str, Any] = {"norm": self.hp.d_norm, "cond": self.hp.d_cond}
        if self.hp.d_width is not None:
            kw["width"] = self.hp.d_width
        family = NETS.get(self.net_family_name(self.info))
        return family.discriminator(self.net_info(self.info), **(kw | options))

    def make_discriminators(self, n: int, **options: Any) -> nn.ModuleList:
        """``n`` discriminators, each drawn afresh (GMAN's ensemble)."""
        return nn.ModuleList(self.make_discriminator(**options) for _ in range(n))

    def build_discriminators(self) -> None:
        """Build the discriminators that ``discriminators()`` names: ``self.D`` by default."""
        self.D = self.make_discriminator()

    def discriminators(self) -> dict[str, nn.Module]:
        """The discriminators by name; each is trained with an optimizer and a phase of that
        name. ``{"D": self.D}`` unless a recipe builds more."""
        return {"D": self.D}

    def make_latent(self) -> LatentSpec:
        """The latent z that G takes: N(0, I) of G's ``z_dim``."""
        return LatentSpec(self.G.z_dim)

    def is_conditional(self) -> bool:
        return bool(self.hp.conditional)

    def uses_own_nets(self) -> bool:
        """Whether ``model.net`` names the user's own G and D, which ``build`` then takes."""
        return is_own(self.hp.net)

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

    def check_reuse_fakes(self) -> None:
        """reuse_fakes shares one draw between the D phase and the G phase of the base's step."""
        if not self.hp.reuse_fakes:
            return
        mine = self.overridden(FRESH_FAKE_METHODS)
        if mine:
            raise ConfigError(
                f"recipe {self.name!r} draws its fakes itself ({', '.join(mine)}): "
                "model.reuse_fakes is not available for it"
            )

    def build(self, info: DataInfo) -> None:
        """G, then the discriminators, then the loss and the latent."""
        self.check_reuse_fakes()
        if self.uses_own_nets():
            self.build_own(info)
        else:
            self.G = self.make_generator()
            self.build_discriminators()
        if self.hp.reuse_fakes and len(self.discriminators()) > 1:
            raise ConfigError(
                f"recipe {self.name!r} has {len(self.discriminators())} discriminators: "
                "model.reuse_fakes shares one draw with a single D phase; drop it"
            )
        self.adv: AdversarialLoss = LOSSES.get(self.hp.loss)
        self.latent = self.make_latent()

    def g_parameters(self) -> Iterable[nn.Parameter]:
        """What G's optimizer trains: G's parameters (GMAN* adds its learned lambda)."""
        return self.G.parameters()

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        opts = {"G": self.make_optimizer(self.g_parameters(), self.hp.lr_g)}
        for name, D in self.discriminators().items():
            opts[name] = self.make_optimizer(D.parameters(), self.hp.lr_d)
        return opts

    def optimizer_weight_decay(self) -> float:
        """The L2 weight decay the players' optimizers add to the gradients (0: none); a recipe
        with a ``weight_decay`` key returns it."""
        return 0.0

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        decay = self.optimizer_weight_decay()
        if self.hp.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, weight_decay=decay)
        return torch.optim.Adam(params, lr=lr, betas=tuple(self.hp.betas), weight_decay=decay)

    # -- training --------------------------------------------------------------------------
    def g_shows_real(self) -> bool:
        """Whether the G phase shows D real images (the relativistic loss does; BiGAN's pairs
        do), so that its batch counts as images seen; otherwise G uses it for its size only."""
        return self.adv.relativistic

    def g_reads_images(self) -> bool:
        """Whether the G phase reads real images' values (else it takes only their shape and
        labels, and the stream copies no images for it): as ``g_shows_real`` unless a recipe
        says otherwise."""
        return self.g_shows_real()

    def phases(self) -> list[Phase]:
        d_phases = [
            Phase(
                name, self.d_loss_for(name), name, repeat=self.hp.n_critic, after=self.after_d_step
            )
            for name in self.discriminators()
        ]
        g_batch = "D" if self.hp.reuse_fakes else None
        g = Phase(
            "G",
            self.g_loss,
            "G",
            real=self.g_shows_real(),
            batch=g_batch,
            images=self.g_reads_images(),
        )
        return [*d_phases, g]

    def labels_of(self, batch: Batch) -> Tensor | None:
        return batch["label"] if self.hp.conditional else None

    def fake_batch(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        y = self.labels_of(batch)
        z = self.latent.sample(batch["image"].shape[0], batch["image"].device)
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

    def d_loss_for(self, name: str) -> Callable[[Batch, StepContext], StepOutput]:
        """The loss of discriminator ``name``'s phase: ``d_loss`` for ``D``, the shared
        ``discriminator_loss`` for any other."""
        if name == "D":
            return self.d_loss
        D = self.discriminators()[name]
        return lambda batch, ctx: self.discriminator_loss(D, batch, ctx)

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        return self.discriminator_loss(self.D, batch, ctx)

    def discriminator_loss(self, D: nn.Module, batch: Batch, ctx: StepContext) -> StepOutput:
        """The adversarial loss of ``D`` on a real batch and fresh fakes, plus ``d_penalty``."""
        real = batch["image"]
        fake, y = self.reused_fakes(batch, ctx) if self.hp.reuse_fakes else self.d_fakes(batch)
        d_real, d_fake = D(self.augmenter(real), y), D(self.augmenter(fake), y)
        self.augmenter.observe(d_real.detach())
        loss = self.adv.d(d_real, d_fake)
        logs = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        penalty = self.d_penalty(D, real, fake, y)
        if penalty is not None:
            logs["penalty"] = penalty.detach()
            loss = loss + penalty
        return loss, logs

    def generator_losses(self, fake: Tensor, y: Tensor | None, batch: Batch) -> dict[str, Tensor]:
        """G's adversarial loss against each discriminator, by name; every D judges the same
        augmented fakes."""
        seen = self.augmenter(fake)
        losses = {}
        for name, D in self.discriminators().items():
            d_fake = D(seen, y)
            relativistic = self.adv.relativistic
            d_real = D(self.augmenter(batch["image"]), y).detach() if relativistic else None
            losses[name] = self.adv.g(d_fake, d_real)
        return losses

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, y = ctx.shared.pop("fakes") if self.hp.reuse_fakes else self.fake_batch(batch)
        losses = self.generator_losses(fake, y, batch)
        if len(losses) == 1:
            return next(iter(losses.values())), {}
        logs = {f"L_{name}": v.detach() for name, v in losses.items()}
        return torch.stack(list(losses.values())).mean(), logs

    def d_penalty(
        self, D: nn.Module, real: Tensor, fake: Tensor, y: Tensor | None
    ) -> Tensor | None:
        """A regularizer added to discriminator ``D``'s loss (gradient penalties); none by
        default."""
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
            z = self.latent.sample(n, self.device)
        return self.decode(z, labels)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z[, y]) with the sampling generator (the EMA copy when kept) in eval mode;
        differentiable in z. Conditional recipes cycle labels 0..K-1 when none are given."""
        G = self.net_for_sampling("G")
        with eval_mode(G):
            if self.hp.conditional:
                labels = self.default_labels(len(z)) if labels is None else labels.to(self.device)
            else:
                labels = None
            return G(z.to(self.device), labels)
