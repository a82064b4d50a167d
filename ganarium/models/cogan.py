"""CoGAN (Liu & Tuzel 2016, "Coupled Generative Adversarial Networks"): a pair of GANs, one per
domain, that learns the joint distribution of two domains from unpaired samples. The two
generators share their first layers (all but the output layer: the high-level semantics) and
the two discriminators their last layers (all but the input layer), Sec. 3; the game is the
sum of the two GANs' games (Eq. 4):

    max_{g1,g2} min_{f1,f2}  V(f1, g1) + V(f2, g2)

with one z feeding both generators, so G1(z) and G2(z) are the same content rendered in each
domain. Batches hold A as ``image`` and B as ``image_b`` (``digits-negative``,
``digits-edges``); ``generate`` draws domain A and ``generate_pairs`` both from the same z.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganarium.capabilities.pairs import Pairs
from ganarium.data import DataInfo
from ganarium.errors import DataError
from ganarium.models import (
    Batch,
    LearningCheck,
    Preview,
    StepContext,
    StepOutput,
    eval_mode,
    register,
)
from ganarium.models._previews import column_preview
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.nets.branched import BranchedDiscriminator, BranchedGenerator


@register(
    "cogan",
    paper="Coupled Generative Adversarial Networks",
    year=2016,
    family="ensemble",
    data=("two-domain",),
    check=LearningCheck(
        **{
            **DIGITS_CHECK,
            "kind": "cogan-pairs",
            "data": "digits-negative",
            "steps": 2000,  # at 1000 the pairs agree in 0.755
            # classes covered too: an untrained G draws one blob that both domains agree on
            "bars": dict(pair_agreement=0.8, fid_ratio=0.5, classes_covered=9),
            "reason": "slow (2000 steps of two coupled GANs, about 3 CPU minutes): at 1000 "
            "steps the pairs agree in 0.755",
            "slow": True,
        }
    ),
)
class CoGAN(Pairs, AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        def check(self) -> str | None:
            if self.conditional:
                return "cogan is unconditional: drop model.conditional"
            return super().check()

    def build(self, info: DataInfo) -> None:
        if info.shape_b is None or tuple(info.shape_b) != tuple(info.shape):
            raise DataError(
                f"cogan needs two domains of one shape (image and image_b), {info.name!r} has "
                "one: use data=digits-negative or digits-edges"
            )
        super().build(info)
        self.G = BranchedGenerator(self.G, 2)
        self.D = BranchedDiscriminator(self.D, 2)

    def _pairs(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """G1(z), G2(z) for the same n z's, in one pass (the shared layers' batch statistics
        are those of the n z's)."""
        z = self.latent.sample(n, device)
        branch = torch.arange(2, device=device).repeat_interleave(n)
        return self.G(z.repeat(2, 1), None, branch).chunk(2)

    def _domain_loss(self, real: Tensor, fake: Tensor, domain: int) -> tuple[Tensor, Tensor]:
        d_real = self.D(self.augmenter(real), domain)
        d_fake = self.D(self.augmenter(fake), domain)
        self.augmenter.observe(d_real.detach())
        return self.adv.d(d_real, d_fake), d_real.detach().mean()

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        with torch.no_grad():
            fake_a, fake_b = self._pairs(len(batch["image"]), batch["image"].device)
        loss_a, real_a = self._domain_loss(batch["image"], fake_a, 0)
        loss_b, real_b = self._domain_loss(batch["image_b"], fake_b, 1)
        return loss_a + loss_b, {"d_real_a": real_a, "d_real_b": real_b}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake_a, fake_b = self._pairs(len(batch["image"]), batch["image"].device)
        loss_a = self.adv.g(self.D(self.augmenter(fake_a), 0))
        loss_b = self.adv.g(self.D(self.augmenter(fake_b), 1))
        return loss_a + loss_b, {"g_a": loss_a.detach(), "g_b": loss_b.detach()}

    # -- sampling --------------------------------------------------------------------------
    def _decode(self, z: Tensor, domain: int) -> Tensor:
        G = self.net_for_sampling("G")
        with eval_mode(G):
            return G(z.to(self.device), None, domain)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples of domain A."""
        z = self.latent.sample(n, self.device) if z is None else z
        return self._decode(z, 0)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self._decode(z, 0)

    @torch.no_grad()
    def generate_pairs(self, n: int, z: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """n pairs (domain A, domain B) from the same z's: (n, ...) each."""
        z = self.latent.sample(n, self.device) if z is None else z
        return self._decode(z, 0), self._decode(z, 1)

    def preview(self, n: int, examples: Batch | None = None) -> Preview:
        """Pairs side by side, four to a row: A, B, A, B, ... of consecutive z's."""
        pairs = column_preview(self.generate_pairs(max(1, n // 2)))
        return Preview(pairs.images, 8)
