"""ADC-GAN (Hou et al. 2022, "Conditional GANs with Auxiliary Discriminative Classifier"): one
classifier on D's features over 2K labels, real class k and fake class k. D learns both
(Eq. 5); G makes its samples look like real class y rather than fake class y (Eq. 6):
L_G = adv + lambda [-log C(y+ | G(z, y)) + log C(y- | G(z, y))]."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganarium.models import LearningCheck, register
from ganarium.models.acgan import ACGAN
from ganarium.models.cgan import CONDITIONAL_CHECK


@register(
    "adcgan",
    paper="Conditional GANs with Auxiliary Discriminative Classifier",
    year=2022,
    family="conditional",
    data=("labelled",),
    check=LearningCheck(**CONDITIONAL_CHECK),
)
class ADCGAN(ACGAN):
    def aux_outputs(self, k: int) -> int:
        return 2 * k  # labels 0..K-1: real class k; K..2K-1: generated class k

    def d_class_loss(self, h_real: Tensor, h_fake: Tensor, y: Tensor) -> Tensor:
        k = self.info.num_classes
        return F.cross_entropy(self.aux(h_real), y) + F.cross_entropy(self.aux(h_fake), y + k)

    def g_class_loss(self, h_fake: Tensor, y: Tensor) -> Tensor:
        logits, k = self.aux(h_fake), self.info.num_classes
        return F.cross_entropy(logits, y) - F.cross_entropy(logits, y + k)
