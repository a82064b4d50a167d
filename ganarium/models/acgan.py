"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs"): G is
conditioned on the class; D predicts real/fake and, from the same features, the class. D
maximises L_S + L_C, G maximises L_C - L_S (Eq. 2-3), with the non-saturating form of L_S here."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.models import LearningCheck, StepOutput, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.cgan import CONDITIONAL_CHECK


@register(
    "acgan",
    paper="Conditional Image Synthesis with Auxiliary Classifier GANs",
    year=2017,
    family="conditional",
    data=("labelled",),
    check=LearningCheck(**CONDITIONAL_CHECK),
)
class ACGAN(AdversarialRecipe):
    requires_labels = True
    defaults = {
        **AdversarialRecipe.defaults,
        "conditional": True,
        "g_cond": "concat",
        "d_cond": "none",
        "class_weight": 1.0,
    }

    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.aux = nn.Linear(self.D.feature_dim, info.num_classes)  # the auxiliary classifier head

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.make_optimizer([*self.D.parameters(), *self.aux.parameters()], self.hp.lr_d),
        }

    def _heads(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.D.features(x)
        return self.D.head(h).squeeze(1), self.aux(h)

    def d_loss(self, batch: dict[str, Tensor]) -> StepOutput:
        fake, y = self.fake_batch(batch)
        real_out, real_cls = self._heads(batch["image"])
        fake_out, fake_cls = self._heads(fake.detach())
        source = self.adv.d(real_out, fake_out)
        cls = F.cross_entropy(real_cls, y) + F.cross_entropy(fake_cls, y)
        acc = (real_cls.argmax(1) == y).float().mean()
        return source + self.hp.class_weight * cls, {
            "class_loss": cls.detach(),
            "real_class_acc": acc.detach(),
        }

    def g_loss(self, batch: dict[str, Tensor]) -> StepOutput:
        fake, y = self.fake_batch(batch)
        out, cls = self._heads(fake)
        class_loss = F.cross_entropy(cls, y)
        return self.adv.g(out) + self.hp.class_weight * class_loss, {
            "class_loss": class_loss.detach()
        }
