"""CGAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"): the label joins z in G
and x in D, Eq. 2: min_G max_D E log D(x|y) + E log(1 - D(G(z|y)|y)). G fuses the label with z by
concatenating a label embedding (``g_cond="concat"``) or by a Hadamard product with one
(``g_cond="hadamard"``); D reads one-hot label planes appended to the image (``d_cond="concat"``)."""

from __future__ import annotations

from dataclasses import dataclass

from ganarium.hparams import override
from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK

CONDITIONAL_CHECK = {
    **DIGITS_CHECK,
    "steps": 1000,
    "bars": dict(fid_ratio=0.5, class_accuracy=0.85),
}


@register(
    "cgan",
    paper="Conditional Generative Adversarial Nets",
    year=2014,
    family="conditional",
    data=("labelled",),
    check=LearningCheck(**CONDITIONAL_CHECK),
)
class CGAN(AdversarialRecipe):
    requires_labels = True

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        d_cond: str = override("concat")
        conditional: bool = override(True)
