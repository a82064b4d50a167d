"""Triple-GAN (Li et al. 2017, "Triple Generative Adversarial Nets"): three players. A classifier C
models p_c(y|x), a conditional generator G models p_g(x|y), and D tells pairs (x, y) of the data
distribution from pairs of C (real x, C's label) and of G (G(z, y), y). The game (Sec. 3):

    min_{C,G} max_D  E_{p(x,y)} log D(x,y) + alpha E_{p_c} log(1 - D(x,y))
                     + (1 - alpha) E_{p_g} log(1 - D(G(z,y),y)) + R_L + alpha_P R_P

with R_L the cross-entropy of C on labelled data and R_P the pseudo-discriminative loss, the
cross-entropy of C on G's pairs (Sec. 3.2), which lets C learn from generated labelled data.

As in the authors' MNIST code: C's adversarial term uses its argmax label weighted by its
confidence; D's real pairs also include unlabelled data labelled by C (``pseudo_real``); C has
entropy minimisation and a class-balance term on unlabelled data; R_P starts after
``pseudo_start`` steps, once G draws recognisable classes, on pairs drawn as the sampler draws
them (the EMA of G in eval mode). Unlabelled examples carry label -1
(digits ``labels_per_class``); labelled pairs come from a ``LabelMemory`` of those seen so far.

As in the authors' later version (Li et al. 2021, "Triple Generative Adversarial Networks", IEEE
TPAMI), C is also a mean teacher (Tarvainen & Valpola 2017): an EMA copy of C, ``C_teacher``, is
the classifier a user gets, and C pays ``consistency_weight`` (ramped in over
``consistency_rampup`` steps) for disagreeing with it on differently noised unlabelled inputs.
``consistency_weight=0`` gives the 2017 recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.classifier import Classifier
from ganarium.data import DataInfo
from ganarium.hparams import fraction, hp, learning_rate, loss_weight, override, size, switch, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._labelled import LabelMemory, noise_std
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.ssgan import SEMI_SUPERVISED_CHECK
from ganarium.nets.classifier import FeatureClassifier, feature_classifier
from ganarium.nn.norms import NORMS
from ganarium.techniques.ema import MovingAverage
from ganarium.techniques.losses import bce_real
from ganarium.techniques.regularizers import class_balance, consistency_mse, prediction_entropy
from ganarium.techniques.schedules import SigmoidRamp

# 2000 steps: C (with its mean teacher) still gains from step 1000 to 2000 while the labels-only
# baseline has long stopped (its 100 examples are fitted within a few hundred steps). Measured on
# CPU: C_teacher 0.882 / 0.876 / 0.871 (seeds 0 / 1 / 2) against 0.820 for labels alone; with
# alpha = 0 and no R_P (C without its adversarial terms) 0.870 at seed 0, so the game itself
# adds about a point on top of the consistency and entropy terms at this budget.
TRIPLE_CHECK = {
    **SEMI_SUPERVISED_CHECK,
    "kind": "semi-supervised-conditional",
    "steps": 2000,
    "bars": dict(margin=0.05, fid_ratio=0.5, class_accuracy=0.85),
}


@register(
    "triplegan",
    paper="Triple Generative Adversarial Nets",
    year=2017,
    family="semi-supervised",
    data=("labelled",),
    check=LearningCheck(**TRIPLE_CHECK, slow=True),
)
class TripleGAN(Classifier, AdversarialRecipe):
    requires_labels = True

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = override("dcgan")
        d_cond: str = override("concat")
        conditional: bool = override(True)
        alpha: float = fraction(0.5, "share of C's pairs among D's fake pairs")
        pseudo_weight: float = loss_weight(0.1, "alpha_P, the weight of R_P")
        pseudo_start: int = whole(300, "step at which R_P (C on G's pairs) switches on", minimum=0)
        pseudo_real: bool = switch(True, "C-labelled unlabelled pairs join D's real pairs")
        c_pairs: str = hp(
            "argmax",
            "how C's pairs are scored: argmax (C's label, confidence-weighted) or expectation",
            choices=("argmax", "expectation"),
        )
        entropy_weight: float = loss_weight(
            0.3, "weight of C's entropy minimisation on unlabelled data"
        )
        balance_weight: float = loss_weight(
            0.001, "weight of C's class-balance term on unlabelled data"
        )
        c_width: int | None = size(None, "C's channel width (None: the net family's default)")
        c_norm: str = hp("layer", "normalization in C", choices=NORMS)
        input_noise: float = noise_std(0.3, "std of Gaussian noise on C's input while training")
        c_jitter: int = whole(0, "random shifts (pixels) of C's input while training", minimum=0)
        lr_c: float = learning_rate(0.001, "C's learning rate")
        label_memory: int = whole(512, "how many labelled examples the label memory keeps")
        consistency_weight: float = loss_weight(
            10.0, "weight of the mean-teacher consistency of C (0: the 2017 C)"
        )
        teacher_decay: float = hp(
            0.99,
            "EMA decay of the mean teacher C_teacher",
            test=lambda v: 0.0 <= v < 1.0,
            rule="the teacher's EMA decay must be in [0, 1)",
        )
        consistency_rampup: int = whole(
            300, "G steps of the sigmoid ramp-in of the consistency term", minimum=0
        )

        def check(self) -> str | None:
            if self.loss != "non-saturating":
                return (
                    f"triplegan plays the paper's log-loss game; loss={self.loss!r} is not "
                    "supported: drop model.loss"
                )
            return super().check()

    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.C = self.make_classifier()
        if self.hp.consistency_weight > 0:  # the mean teacher: an EMA of C, its own decay
            self.teacher = MovingAverage(self.C, self.hp.teacher_decay)
            self.C_teacher = self.teacher.average
        self.consistency_ramp = SigmoidRamp(self.hp.consistency_rampup)
        self.memory = LabelMemory(self.hp.label_memory)

    def nets(self) -> dict[str, nn.Module]:
        """G, D and C; the mean teacher C_teacher is C's average, not a trained net."""
        return {k: m for k, m in super().nets().items() if k != "C_teacher"}

    def extra_state(self) -> dict[str, Any]:
        return {"memory": self.memory.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.memory.load_state_dict(state["memory"])

    # -- the classifier ------------------------------------------------------------------------
    def classifier(self) -> FeatureClassifier:
        """The classifier a user should test: the mean teacher when there is one."""
        return self.C_teacher if self.hp.consistency_weight > 0 else self.C

    def make_classifier(self) -> FeatureClassifier:
        """A fresh C (also the architecture of the labels-only baseline)."""
        net = self.net_family_name(self.info)
        clf = feature_classifier(
            self.info,
            net,
            self.hp.c_width,
            self.hp.c_norm,
            input_noise=self.hp.input_noise,
            jitter=self.hp.c_jitter,
        )
        return clf.to(self.device)

    def classifier_optimizer(self, params) -> torch.optim.Optimizer:
        return self.make_optimizer(params, self.hp.lr_c)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.make_optimizer(self.D.parameters(), self.hp.lr_d),
            "C": self.classifier_optimizer(self.C.parameters()),
        }

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D", repeat=self.hp.n_critic),
            Phase("C", self.c_loss, "C", after=self._update_teacher),
            Phase("G", self.g_loss, "G", real=False),
        ]

    def _update_teacher(self, ctx: StepContext) -> None:
        if self.hp.consistency_weight > 0:
            self.teacher.update(ctx.step)

    # -- pairs -----------------------------------------------------------------------------------
    def _labelled(self, batch: Batch) -> tuple[Tensor, Tensor] | None:
        """(x, y) pairs of the data distribution: labelled examples from the memory, or None
        before the first labelled example has been seen."""
        self.memory.add(batch["image"], batch["label"])
        return self.memory.sample(batch["image"].shape[0])

    def _generated(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        y = torch.randint(self.info.num_classes, (n,), device=device)
        return self.G(self.latent.sample(n, device), y), y

    def _c_pair_loss(self, x: Tensor, logits: Tensor, fake: bool) -> Tensor:
        """E_{y ~ p_c(y|x)} of -log(1 - D(x, y)) (``fake``, D's side) or -log D(x, y) (C's side).

        ``expectation`` sums over all K labels weighted by p_c; ``argmax`` scores C's label alone,
        weighted by C's confidence on C's side (the authors' cheaper approximation)."""
        sign = 1.0 if fake else -1.0
        p = logits.softmax(1)
        if self.hp.c_pairs == "expectation":
            b, k = p.shape
            y_all = torch.arange(k, device=x.device).repeat(b)
            d = self.D(self.augmenter(x.repeat_interleave(k, 0)), y_all).view(b, k)
            return (p * F.softplus(sign * d)).sum(1).mean()
        p_max, y_c = p.max(1)
        d = self.D(self.augmenter(x), y_c)
        return F.softplus(sign * d).mean() if fake else (p_max * F.softplus(sign * d)).mean()

    # -- losses ----------------------------------------------------------------------------------
    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x_u = batch["image"]
        labelled = self._labelled(batch)
        real = [labelled] if labelled is not None else []
        if self.hp.pseudo_real:  # one half of the batch as real pairs, the other as C's pairs
            x_r, x_u = x_u.chunk(2)
            with torch.no_grad():
                real.append((x_r, self.C(x_r).argmax(1)))
        with torch.no_grad():
            logits_c = self.C(x_u)
            x_g, y_g = self._generated(x_u.shape[0], x_u.device)
        a = self.hp.alpha
        fake_c = self._c_pair_loss(x_u, logits_c, fake=True)
        fake_g = F.softplus(self.D(self.augmenter(x_g), y_g)).mean()
        loss, logs = a * fake_c + (1 - a) * fake_g, {"fake_c": fake_c.detach()}
        if real:
            x_real = self.augmenter(torch.cat([x for x, _ in real]))
            d_real = self.D(x_real, torch.cat([y for _, y in real]))
            self.augmenter.observe(d_real.detach())
            loss = loss + bce_real(d_real)
            logs["d_real"] = d_real.detach().mean()
        return loss, logs

    def c_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x_u = batch["image"]
        logits_u = self.C(x_u)
        fool = self._c_pair_loss(x_u, logits_u, fake=False)
        loss = (
            self.hp.alpha * fool
            + self.hp.entropy_weight * prediction_entropy(logits_u)
            + self.hp.balance_weight * class_balance(logits_u)
        )
        logs = {"fool": fool.detach()}
        if self.hp.consistency_weight > 0:  # C_teacher in train mode: its own input noise
            cons = consistency_mse(logits_u, self.C_teacher(x_u))
            loss = loss + self.hp.consistency_weight * self.consistency_ramp.at(ctx.step) * cons
            logs["consistency"] = cons.detach()
        labelled = self._labelled(batch)
        if labelled is not None:  # R_L
            logits_l = self.C(labelled[0])
            sup = F.cross_entropy(logits_l, labelled[1])
            loss = loss + sup
            logs["sup"] = sup.detach()
            logs["train_acc"] = (logits_l.argmax(1) == labelled[1]).float().mean()
        if self.hp.pseudo_weight > 0 and ctx.step >= self.hp.pseudo_start:
            # G's pairs as the sampler draws them (the EMA of G when kept, in eval mode): those
            # teach C far better than the training G's batch-statistics samples
            y_g = torch.randint(self.info.num_classes, (x_u.shape[0],), device=x_u.device)
            pseudo = F.cross_entropy(self.C(self.generate(len(y_g), labels=y_g)), y_g)  # R_P
            loss = loss + self.hp.pseudo_weight * pseudo
            logs["pseudo"] = pseudo.detach()
        return loss, logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x_g, y_g = self._generated(batch["image"].shape[0], batch["image"].device)
        return (1 - self.hp.alpha) * bce_real(self.D(self.augmenter(x_g), y_g)), {}
