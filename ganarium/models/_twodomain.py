"""The shared base of the four-net translation recipes (CycleGAN, DiscoGAN, DualGAN, CSGAN):
translators ``G_AB``: A -> B and ``G_BA``: B -> A, critics ``D_A`` (real A vs G_BA's fakes) and
``D_B`` (real B vs G_AB's fakes), one optimizer for both translators ("G") and one for both
critics ("D"), as the authors' code does.

A subclass picks its nets (``make_translator`` / ``make_critic``), its optimizers and its
phases. The base gives every such recipe the same outside: ``translate(x, direction)`` for
images of any size, the input | output | cycle preview, ``generate(n)`` (A -> B translations
of a few training A images it keeps, so the generic sampling commands work), one-line refusals
of data it cannot use. CycleGAN's learning-rate schedule (constant, then linear to 0 from half
way; Zhu et al. 2017, Sec. 4) is the Trainer's ``train.lr_schedule=linear`` with
``train.lr_decay_start=0.5``, which CycleGAN and InstaGAN declare in ``train_defaults``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.data.paired import side_shapes
from ganarium.errors import ConfigError, DataError, GanariumError
from ganarium.models import Batch, Capabilities, Preview, Recipe, StepContext
from ganarium.nets.patchgan import PatchGANDiscriminator
from ganarium.nets.translator import init_normal, translate_in_eval

DIRECTIONS = ("AtoB", "BtoA")


def as_channels(x: Tensor, channels: int) -> Tensor:
    """Gray (1 channel) repeated to ``channels`` for mixed-channel preview grids."""
    return x.expand(-1, channels, -1, -1) if x.shape[1] == 1 and channels > 1 else x


class TwoDomainRecipe(Recipe):
    """Two translators and two critics on two-domain data (``DataInfo.pairing`` in
    ``pairings``). Batches are ``{"image": A, "image_b": B, ...}``."""

    pairings: ClassVar[tuple[str, ...]] = ("unpaired",)
    ema_nets: ClassVar[tuple[str, ...]] = ()  # the papers average nothing
    defaults: ClassVar[dict[str, Any]] = dict(
        **Recipe.defaults,
        g_width=64,
        g_norm="instance",
        d_width=64,
        d_layers=3,
        d_norm="instance",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        kept_examples=8,
    )
    hparam_help: ClassVar[dict[str, str]] = dict(
        g_width="channels of the translators' first layer (the papers' ngf = 64)",
        g_norm="normalization in the translators: instance, batch, layer or none",
        d_width="channels of the critics' first layer (the papers' ndf = 64)",
        d_layers="stride-2 layers of the PatchGAN critics (3: 70x70 patches)",
        d_norm="normalization in the critics: instance, batch, layer, spectral or none",
        lr_g="the translators' learning rate",
        lr_d="the critics' learning rate",
        betas="Adam's (beta1, beta2)",
        kept_examples="training images of each side kept (in the weights) for generate(n) "
        "and previews without held-out data",
    )

    # -- nets ------------------------------------------------------------------------------
    def make_translator(self, c_in: int, c_out: int) -> nn.Module:
        """(B, c_in, H, W) -> (B, c_out, H, W) with a ``multiple`` attribute (the side H and
        W must be multiples of)."""
        raise NotImplementedError

    def make_critic(self, channels: int) -> nn.Module:
        """The default critic: a PatchGAN (Isola et al. 2017) with the recipe's d_* settings."""
        return PatchGANDiscriminator(
            channels, width=self.hp.d_width, layers=self.hp.d_layers, norm=self.hp.d_norm
        )

    def build(self, info: DataInfo) -> None:
        if info.pairing not in self.pairings:
            kind = "one-domain" if info.pairing == "none" else info.pairing
            raise DataError(
                f"recipe {self.name!r} trains on {' or '.join(self.pairings)} two-domain data, "
                f"but {info.name!r} is {kind} data: use e.g. data=digits-textured, digits-thick "
                "or unpaired-folder (trainA/ trainB/ testA/ testB/)"
            )
        self.shape_a, self.shape_b = side_shapes(info)
        ca, cb = self.shape_a[0], self.shape_b[0]
        self.G_AB = init_normal(self.make_translator(ca, cb))
        self.G_BA = init_normal(self.make_translator(cb, ca))
        self.D_A = init_normal(self.make_critic(ca))
        self.D_B = init_normal(self.make_critic(cb))
        k = int(self.hp.kept_examples)
        if k < 1:
            raise ConfigError(f"kept_examples={k} must be >= 1")
        self.register_buffer("kept_a", torch.zeros(k, *self.shape_a))
        self.register_buffer("kept_b", torch.zeros(k, *self.shape_b))
        self.register_buffer("kept_count", torch.zeros((), dtype=torch.long))

    def capabilities(self) -> Capabilities:
        return Capabilities(translate=DIRECTIONS)

    # -- optimisation ----------------------------------------------------------------------
    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=lr, betas=tuple(self.hp.betas))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        g = [*self.G_AB.parameters(), *self.G_BA.parameters()]
        d = [*self.D_A.parameters(), *self.D_B.parameters()]
        return {
            "G": self.make_optimizer(g, self.hp.lr_g),
            "D": self.make_optimizer(d, self.hp.lr_d),
        }

    def begin_step(self, batch: Batch, ctx: StepContext) -> None:
        """Called by the first phase of each step: keeps examples for ``generate``."""
        self.keep_examples(batch)

    @torch.no_grad()
    def keep_examples(self, batch: Batch) -> None:
        k, have = len(self.kept_a), int(self.kept_count)
        if have >= k:
            return
        take = min(k - have, len(batch["image"]), len(batch["image_b"]))
        self.kept_a[have : have + take] = batch["image"][:take].to(self.kept_a)
        self.kept_b[have : have + take] = batch["image_b"][:take].to(self.kept_b)
        self.kept_count.fill_(have + take)

    def critic(self, D: nn.Module, x: Tensor) -> Tensor:
        """D's patch scores of x as D sees it (through ``model.augment``)."""
        return D(self.augmenter(x))

    # -- translation -----------------------------------------------------------------------
    def translator(self, direction: str) -> nn.Module:
        if direction not in DIRECTIONS:
            raise ConfigError(f"unknown direction {direction!r}: use AtoB or BtoA")
        return self.G_AB if direction == "AtoB" else self.G_BA

    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "AtoB") -> Tensor:
        """Images (N, C, H, W) of the direction's source domain in [-1, 1], any H and W ->
        their translations, the same H and W (padded by reflection and cropped back)."""
        net = self.translator(direction)
        want = (self.shape_a if direction == "AtoB" else self.shape_b)[0]
        if x.dim() != 4 or x.shape[1] != want:
            raise DataError(
                f"{direction} translates (N, {want}, H, W) images, got {tuple(x.shape)}: "
                f"convert the input to {want} channel(s)"
            )
        return translate_in_eval(net, x.to(self.device), net.multiple)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n A -> B translations of the training A images this recipe keeps (cycled); a
        translator has no latent, so use ``translate`` for your own inputs."""
        have = int(self.kept_count)
        if have == 0:
            raise GanariumError(
                f"recipe {self.name!r} translates images and has kept none yet (it has not "
                "trained): use translate(x, direction) on your own images"
            )
        idx = torch.arange(n, device=self.device) % have
        return self.translate(self.kept_a[idx], "AtoB")

    @torch.no_grad()
    def preview(self, n: int, examples: Batch | None = None) -> Preview:
        """Rows of A | G_AB(A) | G_BA(G_AB(A)) | B | G_BA(B) | G_AB(G_BA(B)) for held-out
        examples (the kept training images when there are none)."""
        if examples is not None and "image_b" in examples:
            a, b = examples["image"], examples["image_b"]
        else:
            have = max(1, int(self.kept_count))
            a, b = self.kept_a[:have], self.kept_b[:have]
        rows = max(1, min(len(a), len(b), n // 6))
        a, b = a[:rows].to(self.device), b[:rows].to(self.device)
        fake_b, fake_a = self.translate(a, "AtoB"), self.translate(b, "BtoA")
        cols = [
            a,
            fake_b,
            self.translate(fake_b, "BtoA"),
            b,
            fake_a,
            self.translate(fake_a, "AtoB"),
        ]
        c = max(x.shape[1] for x in cols)
        grid = torch.stack([as_channels(x, c) for x in cols], 1).flatten(0, 1)
        return Preview(grid.float().cpu(), 6)

    # -- pools and state -------------------------------------------------------------------
    def pools(self) -> dict[str, Any]:
        """Training-state objects with state_dict / load_state_dict (history pools)."""
        return {}

    def extra_state(self) -> dict[str, Any]:
        return {name: pool.state_dict() for name, pool in self.pools().items()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for name, pool in self.pools().items():
            if name in state:
                pool.load_state_dict(state[name], self.device)
