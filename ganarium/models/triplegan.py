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

import copy
import dataclasses
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.losses import bce_real
from ganarium.models import (
    Batch,
    Capabilities,
    LearningCheck,
    Phase,
    StepContext,
    StepOutput,
    ema_update,
    register,
)
from ganarium.models._labelled import FeatureClassifier, LabelMemory, feature_classifier
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.ssgan import SEMI_SUPERVISED_CHECK
from ganarium.regularizers import class_balance, consistency_mse, prediction_entropy

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
class TripleGAN(AdversarialRecipe):
    requires_labels = True
    defaults = {
        **AdversarialRecipe.defaults,
        "net": "dcgan",
        "conditional": True,
        "g_cond": "concat",
        "d_cond": "concat",
        "alpha": 0.5,  # share of C's pairs among D's fake pairs
        "pseudo_weight": 0.1,  # alpha_P, the weight of R_P
        "pseudo_start": 300,  # G steps before R_P switches on
        "pseudo_real": True,  # C-labelled unlabelled pairs join D's real pairs
        "c_pairs": "argmax",  # argmax | expectation: how C's pairs (x, y ~ p_c(y|x)) are scored
        "entropy_weight": 0.3,
        "balance_weight": 1e-3,
        "c_width": None,
        "c_norm": "layer",
        "input_noise": 0.3,  # Gaussian noise on C's input while training
        "c_jitter": 0,  # random shifts (pixels) of C's input while training
        "lr_c": 1e-3,
        "label_memory": 512,
        "consistency_weight": 10.0,  # mean-teacher consistency of C on unlabelled data (0: off)
        "teacher_decay": 0.99,  # EMA decay of C_teacher
        "consistency_rampup": 300,  # G steps of the sigmoid ramp-in of the consistency term
    }
    hparam_help = {
        "alpha": "share of C's pairs among D's fake pairs",
        "balance_weight": "weight of C's class-balance term on unlabelled data",
        "c_jitter": "random shifts (pixels) of C's input while training",
        "c_norm": "normalization in C",
        "c_pairs": "how C's pairs are scored: argmax (C's label, confidence-weighted) or expectation",
        "c_width": "C's channel width (None: the net family's default)",
        "consistency_rampup": "G steps of the sigmoid ramp-in of the consistency term",
        "consistency_weight": "weight of the mean-teacher consistency of C (0: the 2017 C)",
        "entropy_weight": "weight of C's entropy minimisation on unlabelled data",
        "input_noise": "std of Gaussian noise on C's input while training",
        "label_memory": "how many labelled examples the label memory keeps",
        "lr_c": "C's learning rate",
        "pseudo_real": "C-labelled unlabelled pairs join D's real pairs",
        "pseudo_start": "step at which R_P (C on G's pairs) switches on",
        "pseudo_weight": "alpha_P, the weight of R_P",
        "teacher_decay": "EMA decay of the mean teacher C_teacher",
    }

    def build(self, info: DataInfo) -> None:
        if self.hp.c_pairs not in ("argmax", "expectation"):
            raise ConfigError(f"c_pairs={self.hp.c_pairs!r}: use argmax or expectation")
        if not 0.0 <= self.hp.alpha <= 1.0:
            raise ConfigError(
                f"alpha={self.hp.alpha} must be in [0, 1] (the share of C's pairs among the fakes)"
            )
        if self.hp.consistency_weight < 0 or not 0.0 <= self.hp.teacher_decay < 1.0:
            raise ConfigError(
                f"consistency_weight={self.hp.consistency_weight} must be >= 0 and "
                f"teacher_decay={self.hp.teacher_decay} in [0, 1)"
            )
        if self.hp.loss != "non-saturating":
            raise ConfigError(
                f"triplegan plays the paper's log-loss game; loss={self.hp.loss!r} is not supported"
            )
        super().build(info)
        self.C = self.make_classifier()
        if self.hp.consistency_weight > 0:
            self.C_teacher = copy.deepcopy(self.C).requires_grad_(False)
        self.memory = LabelMemory(self.hp.label_memory)

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), classifier=True)

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
            ema_update(self.C_teacher, self.C, self.hp.teacher_decay)

    def _consistency_ramp(self, step: int) -> float:
        """exp(-5 (1 - t)^2) for t = step / rampup in [0, 1] (the mean teacher's sigmoid ramp)."""
        t = min(1.0, step / max(1, self.hp.consistency_rampup))
        return math.exp(-5.0 * (1.0 - t) ** 2)

    # -- pairs -----------------------------------------------------------------------------------
    def _labelled(self, batch: Batch) -> tuple[Tensor, Tensor] | None:
        """(x, y) pairs of the data distribution: labelled examples from the memory, or None
        before the first labelled example has been seen."""
        self.memory.add(batch["image"], batch["label"])
        return self.memory.sample(batch["image"].shape[0])

    def _generated(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        y = torch.randint(self.info.num_classes, (n,), device=device)
        return self.G(self.G.sample_z(n, device), y), y

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
            loss = loss + self.hp.consistency_weight * self._consistency_ramp(ctx.step) * cons
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
