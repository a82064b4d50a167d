"""DCGAN (Radford et al. 2016, "Unsupervised Representation Learning with Deep Convolutional
GANs"): strided convs, batch norm in both nets, Adam(2e-4, beta1=0.5), z of 100.
``net='dcgan-paper'`` builds the official 5x5, bias-free nets (the ``lsun-64`` preset), and
``weight_decay`` the official code's L2 decay, added to both players' gradients before Adam."""

from __future__ import annotations

from dataclasses import dataclass

from ganarium.data import DataInfo
from ganarium.hparams import hp, loss_weight, override
from ganarium.latent import DISTRIBUTIONS, LatentSpec
from ganarium.models import LearningCheck, register
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.nets.dcgan import UniformLatent

DIGITS_CHECK = dict(
    kind="digits-fid",
    data="digits",
    data_options=dict(size=16),
    steps=600,
    model=dict(g_width=32, d_width=32, z_dim=32),
    train=dict(batch_size=64),
    bars=dict(fid_ratio=0.5, classes_covered=9),
)


@register(
    "dcgan",
    paper="Unsupervised Representation Learning with Deep Convolutional GANs",
    year=2016,
    family="architecture",
    data=("unconditional",),
    check=LearningCheck(**DIGITS_CHECK),
)
class LatentChoice(AdversarialRecipe):
    """An adversarial recipe whose z is N(0, I) or, with ``z_dist='uniform'``, U(-1, 1)."""

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        z_dist: str = hp(
            "normal",
            "distribution of G's latent z: normal (N(0, I)) or uniform (U(-1, 1))",
            choices=DISTRIBUTIONS,
        )
        weight_decay: float = loss_weight(
            0.0, "L2 weight decay added to both players' gradients before the optimizer (0: none)"
        )

    def build(self, info: DataInfo) -> None:
        super().build(info)
        if self.hp.z_dist == "uniform":
            # a pass-through that keeps the parameter names (G.net.*) of checkpoints
            self.G = UniformLatent(self.G)

    def make_latent(self) -> LatentSpec:
        return LatentSpec(self.G.z_dim, self.hp.z_dist)

    def optimizer_weight_decay(self) -> float:
        return self.hp.weight_decay


class DCGAN(LatentChoice):
    @dataclass
    class Hparams(LatentChoice.Hparams):
        net: str = override("dcgan")
