"""Self-modulated GAN (Chen et al. 2019, "On Self Modulation for Generative Adversarial
Networks"): the generator's batch-norm scale and shift are functions of z (Eq. 2), here in
the paper's SNDCGAN setting: spectral-norm DCGAN discriminator, non-saturating loss,
Adam(2e-4, 0.5, 0.999), one D step per G step."""

from __future__ import annotations

from dataclasses import dataclass

from ganarium.hparams import override
from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK


@register(
    "selfmod",
    paper="On Self Modulation for Generative Adversarial Networks",
    year=2019,
    family="architecture",
    data=("unconditional", "labelled"),
    check=LearningCheck(**DIGITS_CHECK),
)
class SelfMod(AdversarialRecipe):
    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = override("selfmod")
        d_norm: str = override("spectral")
