"""TAC-GAN (Gong et al. 2019, "Twin Auxiliary Classifiers GAN"): AC-GAN's classifier C learns
from real data only, and a twin classifier C_mi learns the labels of generated data; G minimises
L_C(fake) - L_Cmi(fake) (Eq. 9), which removes AC-GAN's bias towards easy-to-classify samples by
matching p_G(y|x) to the data's instead of minimising its entropy."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.models import LearningCheck, register
from ganarium.models.acgan import ACGAN
from ganarium.models.cgan import CONDITIONAL_CHECK


@register(
    "tacgan",
    paper="Twin Auxiliary Classifiers GAN",
    year=2019,
    family="conditional",
    data=("labelled",),
    check=LearningCheck(**CONDITIONAL_CHECK),
)
class TACGAN(ACGAN):
    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.twin = nn.Linear(self.D.feature_dim, info.num_classes)  # C_mi, on D's features too

    def d_heads(self) -> list[nn.Module]:
        return [self.aux, self.twin]

    def d_class_loss(self, h_real: Tensor, h_fake: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(self.aux(h_real), y) + F.cross_entropy(self.twin(h_fake), y)

    def g_class_loss(self, h_fake: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(self.aux(h_fake), y) - F.cross_entropy(self.twin(h_fake), y)
