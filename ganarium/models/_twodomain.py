"""The shared base of the four-net translation recipes (CycleGAN, DiscoGAN, DualGAN, CSGAN,
InstaGAN): translators ``G_AB``: A -> B and ``G_BA``: B -> A, critics ``D_A`` (real A vs G_BA's
fakes) and ``D_B`` (real B vs G_AB's fakes), one optimizer for both translators ("G") and one for
both critics ("D"), as the authors' code does.

A subclass picks its nets (``make_translator`` / ``make_critic``), its losses and, where they
differ from CycleGAN's (G's step, then D's on its fakes), its optimizers and phases; CycleGAN's
history pools are ``build_pools``. The base gives every such recipe the same outside:
``translate(x, direction)`` both ways (the ``TranslatorRecipe``'s, ``_translator.py``), the
input | output | cycle preview of held-out examples, one-line refusals of data it cannot use
(instance-mask translators: ``_instance_translator.py``). CycleGAN's learning-rate schedule
(constant, then linear to 0 from half way; Zhu et al. 2017, Sec. 4) is the Trainer's
``train.lr_schedule=linear`` with ``train.lr_decay_start=0.5`` (``HALF_THEN_LINEAR``), which
CycleGAN and InstaGAN declare in ``train_defaults``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.data.paired import side_shapes
from ganarium.errors import DataError
from ganarium.hparams import adam_betas, hp, learning_rate, size, whole
from ganarium.models import Batch, Phase, StepContext, StepOutput
from ganarium.models._translator import TranslatorRecipe
from ganarium.nets.patchgan import PatchGANDiscriminator
from ganarium.nets.translator import init_normal
from ganarium.nn.image_pool import ImagePool
from ganarium.nn.norms import NORMS

# CycleGAN's schedule: learning rates constant for the first half of training, then linearly to 0
HALF_THEN_LINEAR: dict[str, Any] = {"lr_schedule": "linear", "lr_decay_start": 0.5}


class TwoDomainRecipe(TranslatorRecipe):
    """Two translators and two critics on two-domain data (``DataInfo.pairing`` in
    ``pairings``). Batches are ``{"image": A, "image_b": B, ...}``."""

    directions = ("AtoB", "BtoA")
    pairings: ClassVar[tuple[str, ...]] = ("unpaired",)
    ema_nets: ClassVar[tuple[str, ...]] = ()  # the papers average nothing
    pool_a: ImagePool | None = None  # history pools (``build_pools``); none by default
    pool_b: ImagePool | None = None

    @dataclass
    class Hparams(TranslatorRecipe.Hparams):
        g_width: int = size(64, "channels of the translators' first layer (the papers' ngf = 64)")
        g_norm: str = hp(
            "instance",
            "normalization in the translators: instance, batch, layer or none",
            choices=NORMS,
        )
        d_width: int = size(64, "channels of the critics' first layer (the papers' ndf = 64)")
        d_layers: int = whole(
            3, "stride-2 layers of the PatchGAN critics (3: 70x70 patches)", minimum=0
        )
        d_norm: str = hp(
            "instance",
            "normalization in the critics: instance, batch, layer, spectral or none",
            choices=NORMS,
        )
        lr_g: float = learning_rate(0.0002, "the translators' learning rate")
        lr_d: float = learning_rate(0.0002, "the critics' learning rate")
        betas: tuple[float, float] = adam_betas((0.5, 0.999), "Adam's (beta1, beta2)")

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

    # -- training --------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        """CycleGAN's order (the authors' code): G's step, then D's on the fakes of that same
        forward pass, which ``g_loss`` leaves in ``ctx.shared``."""
        return [Phase("G", self.g_loss, "G"), Phase("D", self.d_loss, "D", batch="G")]

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        raise NotImplementedError

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        raise NotImplementedError

    def critic(self, D: nn.Module, x: Tensor, *inputs: Tensor) -> Tensor:
        """D's patch scores of x as D sees it (through ``model.augment``); ``inputs`` are what
        else D reads beside the image (InstaGAN's masks), passed as they are."""
        return D(self.augmenter(x), *inputs)

    # -- translation -----------------------------------------------------------------------
    def translator(self, direction: str) -> nn.Module:
        self.check_direction(direction)
        return self.net_for_sampling("G_AB" if direction == "AtoB" else "G_BA")

    def preview_columns(self, examples: Batch, n: int) -> list[Tensor]:
        """Rows of A | G_AB(A) | G_BA(G_AB(A)) | B | G_BA(B) | G_AB(G_BA(B)), ``n`` images in
        all (at least one row)."""
        a, b = examples["image"], examples["image_b"]
        rows = max(1, min(len(a), len(b), n // 6))
        a, b = a[:rows].to(self.device), b[:rows].to(self.device)
        fake_b, fake_a = self.translate(a, "AtoB"), self.translate(b, "BtoA")
        return [
            a,
            fake_b,
            self.translate(fake_b, "BtoA"),
            b,
            fake_a,
            self.translate(fake_a, "AtoB"),
        ]

    # -- pools and state -------------------------------------------------------------------
    def build_pools(self, size: int) -> None:
        """CycleGAN's history pools of generated images (``nn.image_pool``; 0: off), one per
        critic: ``pool_a`` holds G_BA's fakes for D_A, ``pool_b`` G_AB's for D_B."""
        self.pool_a, self.pool_b = ImagePool(size), ImagePool(size)

    def pools(self) -> dict[str, Any]:
        """Training-state objects with state_dict / load_state_dict: the history pools, once
        ``build_pools`` made them."""
        return {} if self.pool_a is None else {"pool_a": self.pool_a, "pool_b": self.pool_b}

    def extra_state(self) -> dict[str, Any]:
        return {name: pool.state_dict() for name, pool in self.pools().items()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for name, pool in self.pools().items():
            if name in state:
                pool.load_state_dict(state[name], self.device)
