"""InstaGAN (Mo et al. 2019, "InstaGAN: Instance-aware Image-to-Image Translation"): CycleGAN's
two translators and critics, each taking an image with its set of instance masks
(``nets/instagan.py``) and returning the translated image and masks, trained with (Sec. 2.2)

    L = L_LSGAN + lambda_cyc L_cyc + lambda_idt L_idt + lambda_ctx L_ctx

L_cyc and L_idt are CycleGAN's L1 cycle and identity terms on images and masks alike; the
context-preserving loss L_ctx = ||w(a, b') (x - y')||_1 + ||w(b, a') (y - x')||_1, with
w = (1 - union of the input masks)(1 - union of the output masks), keeps the pixels away from
every instance unchanged (lambdas 10, 10, 10). Sequential mini-batch translation (Sec. 2.3):
``instances_per_step`` instances at a time, each iteration's output (detached) the next one's
input, the content losses on each iteration's instances and the GAN loss on its image with the
masks translated so far. One optimizer step follows all iterations of a batch (their gradients
summed), and D learns from the final iteration's fakes through CycleGAN's history pools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.hparams import loss_weight, whole
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models._instance_translator import InstanceTranslatorRecipe
from ganarium.models._twodomain import HALF_THEN_LINEAR
from ganarium.nets.instagan import (
    InstaDiscriminator,
    InstaGenerator,
    presence,
    sequential_translation,
    translate_instances_padded,
    union,
)
from ganarium.nn.image_pool import query_packed
from ganarium.techniques.losses import least_squares_d

Scene = tuple[Tensor, Tensor]  # an image (N, C, H, W) with its instance masks (N, K, H, W)


@register(
    "instagan",
    paper="InstaGAN: Instance-aware Image-to-Image Translation",
    year=2019,
    family="translation",
    data=("unpaired", "instances"),
    check=LearningCheck(
        kind="instance-translation",
        data="instance-scenes",
        data_options=dict(size=24),
        model=dict(g_width=8, g_blocks=2, g_downsamplings=1, g_norm="batch", d_width=8, d_layers=2),
        train=dict(batch_size=8),
        steps=600,
        bars=dict(target_kind=0.8, background_l1=0.1, margin=0.3),
        reason="batch norm in G (paper: instance norm): with instance norm the background L1 "
        "stays at 0.127, since it discards each scene's per-channel means, the colour of its "
        "smooth field; 1 downsampling and width 8 for the CPU budget",
        slow=True,
    ),
)
class InstaGAN(InstanceTranslatorRecipe):
    train_defaults: ClassVar[dict[str, Any]] = dict(HALF_THEN_LINEAR)

    @dataclass
    class Hparams(InstanceTranslatorRecipe.Hparams):
        g_blocks: int = whole(
            9, "residual blocks, split between the encoders and the decoders", minimum=0
        )
        g_downsamplings: int = whole(2, "stride-2 stages of the encoders (paper: 2)", minimum=0)
        lambda_cycle: float = loss_weight(
            10.0, "weight of the L1 cycle loss on images and masks (paper: 10)"
        )
        lambda_identity: float = loss_weight(
            10.0, "weight of the L1 identity loss on images and masks (paper: 10)"
        )
        lambda_context: float = loss_weight(
            10.0, "weight of the context-preserving loss (paper: 10)"
        )
        instances_per_step: int = whole(
            1, "instances translated per sequential mini-batch iteration"
        )
        pool_size: int = whole(
            50, "generated (image, masks) in each history pool (0: off)", minimum=0
        )

    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.build_pools(self.hp.pool_size)

    def make_translator(self, c_in: int, c_out: int) -> nn.Module:
        return InstaGenerator(
            c_in, c_out, self.hp.g_width, self.hp.g_blocks, self.hp.g_downsamplings, self.hp.g_norm
        )

    def make_critic(self, channels: int) -> nn.Module:
        return InstaDiscriminator(channels, self.hp.d_width, self.hp.d_layers, self.hp.d_norm)

    def direction_terms(
        self, G: nn.Module, back: nn.Module, D: nn.Module, source: Scene, target: Scene
    ) -> tuple[dict[str, Tensor], tuple[Tensor, Tensor, Tensor]]:
        """G's terms for one direction (``source`` an image with its masks in {0, 1}, ``target``
        a real image of the other domain with its masks, for the identity term; ``back`` the
        other translator, D the target's critic), and the final fake for D."""
        (x, masks01), (other, other01) = source, target
        a, p, per_step = masks01 * 2 - 1, presence(masks01), self.hp.instances_per_step
        adv = cycle = context = identity = x.new_zeros(())
        done = torch.full_like(a, -1.0)
        for x_m, a_m, p_m, y_m, b_m, sl in sequential_translation(G, x, a, p, per_step):
            done = torch.cat([done[:, : sl.start], b_m, done[:, sl.stop :]], 1)
            shown = torch.cat([p[:, : sl.stop], torch.zeros_like(p[:, sl.stop :])], 1)
            adv = adv + (self.critic(D, y_m, done, shown) - 1).pow(2).mean()
            x_back, a_back = back(y_m, b_m, p_m)
            cycle = cycle + F.l1_loss(x_back, x_m) + F.l1_loss(a_back, a_m)
            w = (1 - union(a_m)) * (1 - union(b_m))
            context = context + (w * (x_m - y_m)).abs().mean()
        fake = (y_m.detach(), done.detach(), p)
        o, q = other01 * 2 - 1, presence(other01)
        for x_m, a_m, _, y_m, b_m, _ in sequential_translation(G, other, o, q, per_step):
            identity = identity + F.l1_loss(y_m, x_m) + F.l1_loss(b_m, a_m)
        return {"adv": adv, "cycle": cycle, "identity": identity, "context": context}, fake

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x, a, y, b = batch["image"], batch["mask"], batch["image_b"], batch["mask_b"]
        ab, fake_b = self.direction_terms(self.G_AB, self.G_BA, self.D_B, (x, a), (y, b))
        ba, fake_a = self.direction_terms(self.G_BA, self.G_AB, self.D_A, (y, b), (x, a))
        ctx.shared["fakes"] = (fake_a, fake_b)
        weight = {
            "adv": 1.0,
            "cycle": self.hp.lambda_cycle,
            "identity": self.hp.lambda_identity,
            "context": self.hp.lambda_context,
        }
        terms = {k: weight[k] * (ab[k] + ba[k]) for k in weight}
        return sum(terms.values()), {k: v.detach() for k, v in terms.items()}

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake_a, fake_b = ctx.shared["fakes"]
        logs, loss = {}, 0.0
        for name, D, pool, x, m, fake in (
            ("d_a", self.D_A, self.pool_a, batch["image"], batch["mask"], fake_a),
            ("d_b", self.D_B, self.pool_b, batch["image_b"], batch["mask_b"], fake_b),
        ):
            real = self.critic(D, x, m * 2 - 1, presence(m))
            if name == "d_b":
                self.augmenter.observe(real.detach())
            d = least_squares_d(real, self.critic(D, *query_packed(pool, fake)))
            loss, logs[name] = loss + d, d.detach()
        return loss, logs

    def run_instances(self, G: nn.Module, x: Tensor, masks01: Tensor) -> tuple[Tensor, Tensor]:
        """Padded to G's multiple, the masks to k slots, translated sequentially."""
        return translate_instances_padded(G, x, masks01, self.k, self.hp.instances_per_step)
