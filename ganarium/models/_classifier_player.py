"""The base of adversarial recipes with a third player, a classifier C that learns from few labels
beside G and D (Triple-GAN, Li et al. 2017). What makes C a semi-supervised classifier lives
here: its net and optimizer, the labelled pairs from a ``LabelMemory``, entropy minimisation and
class balance on unlabelled data, and a mean teacher (Tarvainen & Valpola 2017, "Mean teachers
are better role models"): an EMA copy ``C_teacher`` that C learns to agree with, ramped in, and
the classifier a user gets. The recipe adds C's part in its game.

Not a recipe module (the leading underscore keeps the registry from importing it as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganarium.capabilities.classifier import Classifier
from ganarium.hparams import hp, learning_rate, loss_weight, size, whole
from ganarium.models import Batch, StepContext, StepOutput
from ganarium.models._labelled import LabelMemory, noise_std, supervised_loss
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.nets.classifier import FeatureClassifier, feature_classifier
from ganarium.nn.norms import NORMS
from ganarium.techniques.ema import MovingAverage
from ganarium.techniques.regularizers import class_balance, consistency_mse, prediction_entropy
from ganarium.techniques.schedules import SigmoidRamp


class ClassifierPlayer(Classifier, AdversarialRecipe):
    """G and D of the base, then C (``build_classifier``); C's optimizer joins G's and D's.
    Unlabelled examples carry label -1."""

    requires_labels = True

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
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
            10.0, "weight of the mean-teacher consistency of C (0: no mean teacher)"
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

    def build_classifier(self) -> None:
        """C, its mean teacher (when ``consistency_weight`` > 0: an EMA of C, its own decay),
        the consistency ramp and the label memory."""
        self.C = self.make_classifier()
        if self.hp.consistency_weight > 0:
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

    def classifier(self) -> FeatureClassifier:
        """The classifier a user should test: the mean teacher when there is one."""
        return self.C_teacher if self.hp.consistency_weight > 0 else self.C

    def make_classifier(self) -> FeatureClassifier:
        """A fresh C (also the architecture of the labels-only baseline)."""
        hp, net = self.hp, self.net_family_name(self.info)
        clf = feature_classifier(
            self.info, net, hp.c_width, hp.c_norm, input_noise=hp.input_noise, jitter=hp.c_jitter
        )
        return clf.to(self.device)

    def classifier_optimizer(self, params) -> torch.optim.Optimizer:
        return self.make_optimizer(params, self.hp.lr_c)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return super().configure_optimizers() | {
            "C": self.classifier_optimizer(self.C.parameters())
        }

    def _update_teacher(self, ctx: StepContext) -> None:
        """After each C step: the mean teacher moves towards C."""
        if self.hp.consistency_weight > 0:
            self.teacher.update(ctx.step)

    def labelled_pairs(self, batch: Batch) -> tuple[Tensor, Tensor] | None:
        """(x, y) pairs of the data distribution: the batch's labelled examples join the memory,
        and as many as the batch holds are drawn from it (None before the first is seen)."""
        self.memory.add(batch["image"], batch["label"])
        return self.memory.sample(batch["image"].shape[0])

    def classifier_loss(
        self, game: Tensor, batch: Batch, logits_u: Tensor, step: int
    ) -> StepOutput:
        """C's loss: ``game`` (its terms in the recipe's game) plus entropy minimisation and
        class balance on C's logits of the batch, the mean teacher's consistency on the same
        inputs (the teacher in train mode: its own input noise) and R_L, the cross-entropy on
        labelled pairs."""
        x_u, hp, logs = batch["image"], self.hp, {}
        loss = (
            game
            + hp.entropy_weight * prediction_entropy(logits_u)
            + hp.balance_weight * class_balance(logits_u)
        )
        if hp.consistency_weight > 0:
            cons = consistency_mse(logits_u, self.C_teacher(x_u))
            loss = loss + hp.consistency_weight * self.consistency_ramp.at(step) * cons
            logs["consistency"] = cons.detach()
        sup = supervised_loss(self.C, self.labelled_pairs(batch))  # R_L
        if sup is not None:
            loss, logs = loss + sup[0], logs | sup[1]
        return loss, logs
