"""GMAN (Durugkar et al. 2017, "Generative Multi-Adversarial Networks"): one generator against N
discriminators. Each D_i plays the usual game on a batch of its own (its own phase and
optimizer); G minimises an aggregate F of the N generator losses L_i (Sec. 3):

    mean       F = (1/N) sum_i L_i                                   (GMAN-0)
    max        F = max_i L_i                                         (the formidable adversary)
    soft-mean  F_lambda = sum_i w_i L_i,  w = softmax(lambda L)      (GMAN-lambda, Sec. 3.2)
    learned    min_{G, lambda > 0} F_lambda - c lambda              (GMAN*, Sec. 4.1)

lambda = 0 gives the mean and lambda -> infinity the max. GMAN* lets G tune lambda itself; the
penalty c lambda (c = 0.001, ``lambda_penalty``) keeps it from settling at 0. With N = 1 every
aggregate is the standard GAN, the check's single-discriminator baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganarium.capabilities.signals import Signals
from ganarium.data import DataInfo
from ganarium.hparams import hp, loss_weight, whole
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.techniques.losses import LOSSES

AGGREGATIONS = ("mean", "max", "soft-mean", "learned")

# The 25-mode grid with MLPs (gan-ns's ring-8 setting, no norms, run longer): modes covered
# against the same recipe with one discriminator at equal steps, plus floors on the figures.
# Measured (seed 0, 8000 steps): one D 6 modes / 0.633 high-quality; GMAN (3 D, soft mean,
# lambda 1) 11 / 0.739. At 3000 steps neither clusters (0-1 modes, < 3% high quality).
GRID25_CHECK: dict[str, Any] = dict(
    kind="modes-vs-one-discriminator",
    data="grid25",
    steps=8000,
    model=dict(
        g_width=128, d_width=128, z_dim=16, lr_g=1e-3, lr_d=1e-3, g_norm="none", d_norm="none"
    ),
    train=dict(batch_size=256, lr_schedule="linear"),
    bars=dict(margin=0, modes_covered=8, high_quality=0.5),
    reason="slow: the single-D baseline is trained too, and on the grid neither clusters before "
    "~5000 steps. FAILS on the CPU the table was last run on: one D covers 8-12 modes, GMAN "
    "4-8 over 3 seeds and 3 settings (passed 11 vs 9 on another CPU); open, xfail in the tests",
    slow=True,
)


def aggregate(losses: Tensor, how: str, softness: Tensor | float) -> Tensor:
    """F of the N generator losses (N,) by ``how`` (mean, max, soft-mean/learned with lambda =
    ``softness``); the soft weights are differentiated through, as lambda is in GMAN*."""
    if how == "mean":
        return losses.mean()
    if how == "max":
        return losses.max()
    weights = torch.softmax(softness * losses, 0)
    return (weights * losses).sum()


@register(
    "gman",
    paper="Generative Multi-Adversarial Networks",
    year=2017,
    family="ensemble",
    data=("unconditional", "toy"),
    check=LearningCheck(**GRID25_CHECK),
)
class GMAN(Signals, AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        n_discriminators: int = whole(3, "N, the number of discriminators")
        aggregation: str = hp(
            "soft-mean",
            "how G combines the N losses: mean, max, soft-mean or learned (GMAN*)",
            choices=AGGREGATIONS,
        )
        softness: float = hp(
            1.0,
            "lambda of the soft mean (0: mean; large: max); the start value for learned",
            test=lambda v: v >= 0,
            rule="lambda must be >= 0",
        )
        lambda_penalty: float = loss_weight(
            0.001, "c of GMAN*'s -c lambda term, which keeps the learned lambda above 0"
        )

        def check(self) -> str | None:
            if LOSSES.get(self.loss).relativistic:
                return "gman aggregates losses of fakes alone: use a loss that is not relativistic"
            return super().check()

    def build_discriminators(self) -> None:
        # one D is drawn and dropped first, so the N are the ones of versions before 0.2
        self.make_discriminator()
        self.Ds = self.make_discriminators(self.hp.n_discriminators)

    def discriminators(self) -> dict[str, nn.Module]:
        # each its own phase, optimizer and freshly drawn batch (the authors' code splits an
        # N-times larger batch between them)
        return {f"D{i}": D for i, D in enumerate(self.Ds)}

    def build(self, info: DataInfo) -> None:
        super().build(info)
        # GMAN*: G learns log lambda (lambda stays positive); a fixed lambda is a buffer
        log_softness = torch.tensor(math.log(max(self.hp.softness, 1e-6)))
        if self.hp.aggregation == "learned":
            self.log_softness = nn.Parameter(log_softness)
        else:
            self.register_buffer("log_softness", log_softness)
        self._state: dict[str, Tensor] = {}

    def g_parameters(self) -> list[nn.Parameter]:
        extra = [self.log_softness] if self.hp.aggregation == "learned" else []
        return [*self.G.parameters(), *extra]

    def signal_names(self) -> tuple[str, ...]:
        return ("lambda",) if self.hp.aggregation == "learned" else ()

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, y = self.fake_batch(batch)
        losses = torch.stack(list(self.generator_losses(fake, y, batch).values()))
        softness = self.log_softness.exp()
        loss = aggregate(losses, self.hp.aggregation, softness)
        if self.hp.aggregation == "learned":
            loss = loss - self.hp.lambda_penalty * softness
        logs = {f"L{i}": v.detach() for i, v in enumerate(losses)}
        logs["lambda"] = softness.detach()
        self._state = {"lambda": softness.detach()}
        return loss, logs

    def learning_state(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._state.items()}
