"""S3GAN (Lucic et al. 2019, "High-Fidelity Image Generation With Fewer Labels", Sec. 3): a
class-conditional GAN (conditional-BN G, projection D, hinge loss, spectral norm) trained with
a few labels. A linear classifier c on D's features learns from the labelled reals
(co-training, "S2GAN-CO"); the unlabelled reals enter D's projection term with c's predicted
labels; and D is also trained to predict the rotation of rotated real images (the
self-supervision of Chen et al. 2019), which G's samples must also make predictable:

    L_D = hinge(D(x, y~), D(G(z, y), y)) + CE(c(x_l), y_l) + beta E_r CE(R(rot_r x), r)
    L_G = -D(G(z, y), y) + alpha E_r CE(R(rot_r G(z, y)), r)

with y~ the true label of labelled x and argmax c(x) otherwise, r in {0, 90, 180, 270} degrees,
beta = 1 and alpha = 0.2 (Chen et al.). Unlabelled examples carry label -1 (digits
``labels_per_class``); labelled batches come from a ``LabelMemory`` of those seen so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.signals import Signals
from ganarium.data import DataInfo
from ganarium.hparams import loss_weight, whole
from ganarium.models import Batch, LearningCheck, StepContext, StepOutput, register
from ganarium.models._labelled import LabelMemory
from ganarium.models.cgan import CONDITIONAL_CHECK
from ganarium.models.cgan_projection import CGANProjection
from ganarium.nn.rotation import rotation_batch


@register(
    "s3gan",
    paper="High-Fidelity Image Generation With Fewer Labels",
    year=2019,
    family="semi-supervised",
    data=("labelled",),
    check=LearningCheck(
        **{
            **CONDITIONAL_CHECK,
            "data_options": dict(size=16, labels_per_class=10),
            "steps": 2000,
            "bars": dict(fid_ratio=0.5, class_accuracy=0.8),
        },
        slow=True,
    ),
)
class S3GAN(Signals, CGANProjection):
    @dataclass
    class Hparams(CGANProjection.Hparams):
        rotation_d: float = loss_weight(1.0, "beta: weight of D's rotation loss on real images")
        rotation_g: float = loss_weight(0.2, "alpha: weight of G's rotation loss on its samples")
        classifier_weight: float = loss_weight(
            1.0, "weight of the classifier's cross-entropy on labelled reals"
        )
        label_memory: int = whole(512, "how many labelled examples the label memory keeps")

    def build(self, info: DataInfo) -> None:
        super().build(info)
        f = self.D.feature_dim
        self.heads = nn.ModuleDict(
            {"classes": nn.Linear(f, info.num_classes), "rotation": nn.Linear(f, 4)}
        )
        self.memory = LabelMemory(self.hp.label_memory)
        self._train_acc: Tensor | None = None

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        d_params = [*self.D.parameters(), *self.heads.parameters()]
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.make_optimizer(d_params, self.hp.lr_d),
        }

    def signal_names(self) -> tuple[str, ...]:
        return ("train_acc",)

    def extra_state(self) -> dict[str, Any]:
        return {"memory": self.memory.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.memory.load_state_dict(state["memory"])

    def _rotation_loss(self, x: Tensor) -> Tensor:
        rotated, r = rotation_batch(x)
        return F.cross_entropy(self.heads["rotation"](self.D.features(rotated)), r)

    def _score(self, h: Tensor, y: Tensor) -> Tensor:
        """D's projection output from features h (B, F) and labels y (B,)."""
        return self.D.head(h).squeeze(1) + (self.D.embed(y) * h).sum(1)

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real, y = batch["image"], batch["label"]
        self.memory.add(real, y)
        with torch.no_grad():
            y_fake = torch.randint(self.info.num_classes, (len(real),), device=real.device)
            fake = self.G(self.latent.sample(len(real), real.device), y_fake)
        h_real = self.D.features(self.augmenter(real))
        with torch.no_grad():  # pseudo-labels: c's reading of the unlabelled reals
            y_real = torch.where(y >= 0, y, self.heads["classes"](h_real).argmax(1))
        d_real = self._score(h_real, y_real)
        d_fake = self._score(self.D.features(self.augmenter(fake)), y_fake)
        self.augmenter.observe(d_real.detach())
        loss = self.adv.d(d_real, d_fake) + self.hp.rotation_d * self._rotation_loss(real)
        logs: dict[str, Tensor] = {"d_real": d_real.detach().mean()}
        labelled = self.memory.sample(len(real))
        if labelled is not None:
            logits = self.heads["classes"](self.D.features(labelled[0]))
            ce = F.cross_entropy(logits, labelled[1])
            loss = loss + self.hp.classifier_weight * ce
            logs["train_acc"] = (logits.argmax(1) == labelled[1]).float().mean()
            self._train_acc = logs["train_acc"]
        return loss, logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        y = torch.randint(self.info.num_classes, (len(real),), device=real.device)
        fake = self.G(self.latent.sample(len(real), real.device), y)
        d_fake = self._score(self.D.features(self.augmenter(fake)), y)
        rot = self._rotation_loss(fake)
        return self.adv.g(d_fake) + self.hp.rotation_g * rot, {"rotation": rot.detach()}

    def learning_state(self) -> dict[str, float]:
        return {} if self._train_acc is None else {"train_acc": float(self._train_acc)}
