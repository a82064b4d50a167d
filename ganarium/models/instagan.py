"""InstaGAN (Mo et al. 2019, "InstaGAN: Instance-aware Image-to-Image Translation"): CycleGAN's
two translators and critics, each now taking an image with its set of instance masks
(``nets/instagan.py``) and returning the translated image and masks, trained with (Sec. 2.2)

    L = L_LSGAN + lambda_cyc L_cyc + lambda_idt L_idt + lambda_ctx L_ctx

where L_cyc and L_idt are CycleGAN's L1 cycle and identity terms on images and masks alike,
and the context-preserving loss L_ctx = ||w(a, b') (x - y')||_1 + ||w(b, a') (y - x')||_1, with
w = (1 - union of the input masks)(1 - union of the output masks), keeps the pixels away from
every instance unchanged (lambdas 10, 10, 10 as in the paper). Sequential mini-batch
translation (Sec. 2.3): the instances are translated ``instances_per_step`` at a time, each
iteration's output (detached) the next one's input, the content losses on each iteration's
instances and the GAN loss on its image with the masks translated so far. Here one optimizer
step follows all iterations of a batch (their gradients summed) rather than one per iteration,
and D learns from the final iteration's fakes (through CycleGAN's history pool).

Batches: ``image``/``mask`` (A, masks (N, K, H, W) in {0, 1}; empty slots all 0) and
``image_b``/``mask_b`` (``data=instance-scenes``). ``translate(x, direction, masks=)`` returns
the image; ``translate_instances`` the image and its masks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.instance_masks import InstanceMasks
from ganarium.data import DataInfo
from ganarium.errors import DataError
from ganarium.hparams import loss_weight, whole
from ganarium.models import (
    Batch,
    LearningCheck,
    Phase,
    StepContext,
    StepOutput,
    register,
)
from ganarium.models._twodomain import TwoDomainRecipe
from ganarium.nets.instagan import (
    InstaDiscriminator,
    InstaGenerator,
    presence,
    sequential_translation,
    translate_instances_padded,
    union,
)
from ganarium.nn.image_pool import ImagePool, query_packed
from ganarium.techniques.losses import least_squares_d

# measured at seed 0, 600 steps (the check's other settings): with the paper's instance norm in
# G the masked squares become discs (0.94) but the background L1 stays at 0.127 (0.116 with
# width 16 on 20 px scenes): instance norm removes each image's per-channel means, which is the
# colour of a smooth field, and the decoder restores it only roughly; with batch norm 0.974 /
# 0.069. 600 steps took 287 s on one thread of the shared 2-core machine, hence slow.
INSTAGAN_REASON = (
    "batch norm in G (paper: instance norm): with instance norm the background L1 stays at 0.127, "
    "since it discards each scene's per-channel means, the colour of its smooth field; 1 "
    "downsampling and width 8 for the CPU budget"
)


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
        reason=INSTAGAN_REASON,
        slow=True,
    ),
)
class InstaGAN(InstanceMasks, TwoDomainRecipe):
    # CycleGAN's schedule: constant for the first half of training, then linearly to 0
    train_defaults: ClassVar[dict[str, Any]] = {"lr_schedule": "linear", "lr_decay_start": 0.5}
    preview_keys = ("image", "mask", "image_b", "mask_b")

    @dataclass
    class Hparams(TwoDomainRecipe.Hparams):
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
        self.k = int(info.extras.get("instances", 0))
        if self.k < 1:
            raise DataError(
                f"instagan translates images with instance masks, but {info.name!r} has none: "
                "use data=instance-scenes (batches with 'mask' and 'mask_b')"
            )
        super().build(info)
        self.pool_a, self.pool_b = ImagePool(self.hp.pool_size), ImagePool(self.hp.pool_size)

    def make_translator(self, c_in: int, c_out: int) -> nn.Module:
        return InstaGenerator(
            c_in, c_out, self.hp.g_width, self.hp.g_blocks, self.hp.g_downsamplings, self.hp.g_norm
        )

    def make_critic(self, channels: int) -> nn.Module:
        return InstaDiscriminator(channels, self.hp.d_width, self.hp.d_layers, self.hp.d_norm)

    def pools(self) -> dict[str, Any]:
        return {"pool_a": self.pool_a, "pool_b": self.pool_b}

    def phases(self) -> list[Phase]:
        return [Phase("G", self.g_loss, "G"), Phase("D", self.d_loss, "D", batch="G")]

    # -- sequential translation --------------------------------------------------------------
    def sequential(self, G: nn.Module, x: Tensor, masks: Tensor, present: Tensor) -> list[tuple]:
        return sequential_translation(G, x, masks, present, self.hp.instances_per_step)

    def direction_terms(
        self,
        G: nn.Module,
        back: nn.Module,
        D: nn.Module,
        x: Tensor,
        masks01: Tensor,
        other: Tensor,
        other01: Tensor,
    ) -> tuple[dict[str, Tensor], tuple[Tensor, Tensor, Tensor]]:
        """G's terms for one direction (source x with its masks; ``other`` a real image of the
        target domain with its masks, for the identity term), and the final fake for D."""
        a, p = masks01 * 2 - 1, presence(masks01)
        zero = x.new_zeros(())
        adv, cycle, context, identity = zero, zero, zero, zero
        done = torch.full_like(a, -1.0)
        for x_m, a_m, p_m, y_m, b_m, sl in self.sequential(G, x, a, p):
            done = torch.cat([done[:, : sl.start], b_m, done[:, sl.stop :]], 1)
            shown = torch.cat([p[:, : sl.stop], torch.zeros_like(p[:, sl.stop :])], 1)
            adv = adv + (self.critic_of(D, y_m, done, shown) - 1).pow(2).mean()
            x_back, a_back = back(y_m, b_m, p_m)
            cycle = cycle + F.l1_loss(x_back, x_m) + F.l1_loss(a_back, a_m)
            w = (1 - union(a_m)) * (1 - union(b_m))
            context = context + (w * (x_m - y_m)).abs().mean()
        fake = (y_m.detach(), done.detach(), p)
        o, q = other01 * 2 - 1, presence(other01)
        for x_m, a_m, _, y_m, b_m, _ in self.sequential(G, other, o, q):
            identity = identity + F.l1_loss(y_m, x_m) + F.l1_loss(b_m, a_m)
        return {"adv": adv, "cycle": cycle, "identity": identity, "context": context}, fake

    def critic_of(self, D: nn.Module, x: Tensor, masks: Tensor, present: Tensor) -> Tensor:
        return D(self.augmenter(x), masks, present)

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x, a, y, b = batch["image"], batch["mask"], batch["image_b"], batch["mask_b"]
        ab, fake_b = self.direction_terms(self.G_AB, self.G_BA, self.D_B, x, a, y, b)
        ba, fake_a = self.direction_terms(self.G_BA, self.G_AB, self.D_A, y, b, x, a)
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
            real = self.critic_of(D, x, m * 2 - 1, presence(m))
            if name == "d_b":
                self.augmenter.observe(real.detach())
            d = least_squares_d(real, self.critic_of(D, *query_packed(pool, fake)))
            loss, logs[name] = loss + d, d.detach()
        return loss, logs

    # -- translation -----------------------------------------------------------------------------
    @torch.no_grad()
    def translate_instances(
        self, x: Tensor, masks: Tensor, direction: str = "AtoB"
    ) -> tuple[Tensor, Tensor]:
        """Images (N, C, H, W) in [-1, 1] with instance masks (N, K', H, W) in {0, 1} (K' <= K;
        any H, W) -> (translated images, translated masks in [0, 1]), sequentially."""
        G = self.translator(direction)
        want = (self.shape_a if direction == "AtoB" else self.shape_b)[0]
        if (
            x.dim() != 4
            or x.shape[1] != want
            or masks.shape[0] != x.shape[0]
            or masks.shape[-2:] != x.shape[-2:]
        ):
            raise DataError(
                f"{direction} translates (N, {want}, H, W) images with (N, K, H, W) masks, got "
                f"{tuple(x.shape)} and {tuple(masks.shape)}"
            )
        if masks.shape[1] > self.k:
            raise DataError(
                f"this instagan was trained with {self.k} instance slots, got {masks.shape[1]} masks: "
                f"pass at most {self.k} (or train with data.instances={masks.shape[1]})"
            )
        return translate_instances_padded(
            G, x.to(self.device), masks.to(self.device).float(), self.k, self.hp.instances_per_step
        )

    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "AtoB", masks: Tensor | None = None) -> Tensor:
        """Images (N, C, H, W) -> translations; only the instances in ``masks`` (N, K, H, W)
        in {0, 1} are translated (none when no masks are given: the context alone)."""
        if masks is None:
            masks = torch.zeros(len(x), 1, *x.shape[-2:], device=x.device)
        return self.translate_instances(x, masks, direction)[0]

    def preview_columns(self, examples: Batch, n: int) -> list[Tensor]:
        """Rows of A | its masks | A -> B | the translated masks | B | B -> A."""
        x, a, y, b = (examples[k] for k in ("image", "mask", "image_b", "mask_b"))
        rows = max(1, min(len(x), n // 6))
        x, a, y, b = (t[:rows].to(self.device) for t in (x, a, y, b))
        fake_b, mask_fb = self.translate_instances(x, a, "AtoB")
        fake_a, _ = self.translate_instances(y, b, "BtoA")
        union_of = lambda m: m.amax(1, keepdim=True) * 2 - 1  # noqa: E731
        return [x, union_of(a), fake_b, union_of(mask_fb), y, fake_a]
