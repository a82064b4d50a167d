"""Losses over several discriminators that each expose a list of features, the last entry their
output: the multi-scale PatchGANs of pix2pixHD (Wang et al. 2018, "High-Resolution Image
Synthesis and Semantic Manipulation with Conditional GANs", Eqs. 4-5), one list per scale."""

from __future__ import annotations

from torch import Tensor

from ganarium.techniques.losses import AdversarialLoss

ScaleFeatures = list[list[Tensor]]


def multiscale_d_loss(adv: AdversarialLoss, real: ScaleFeatures, fake: ScaleFeatures) -> Tensor:
    """``adv``'s discriminator loss on each scale's output, averaged over the scales."""
    return sum(adv.d(r[-1], f[-1]) for r, f in zip(real, fake)) / len(real)


def multiscale_g_loss(adv: AdversarialLoss, fake: ScaleFeatures) -> Tensor:
    """``adv``'s generator loss on each scale's output, averaged over the scales."""
    return sum(adv.g(f[-1]) for f in fake) / len(fake)


def feature_matching_l1(real: ScaleFeatures, fake: ScaleFeatures) -> Tensor:
    """L_FM (Eq. 5) as the authors' code weighs it: the mean L1 gap of each intermediate layer's
    features times 4 / (intermediate layers), summed, and averaged over the scales."""
    return sum(
        (fr - ff).abs().mean() * 4.0 / (len(r) - 1)
        for r, f in zip(real, fake)
        for fr, ff in zip(r[:-1], f[:-1])
    ) / len(fake)
