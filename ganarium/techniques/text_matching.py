"""The matching-aware discriminator of text-to-image GANs (Reed et al. 2016, "Generative
Adversarial Text to Image Synthesis", GAN-CLS; StackGAN's Eq. 3 and 5): D scores (image, text)
pairs, and learns that a real image with its own text is real while a real image with another
image's text and a generated image with its text are fake."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganarium.techniques.losses import bce_real


def mismatched(text: Tensor) -> Tensor:
    """Each sample's text embedding (B, e) replaced by the previous sample's (the batch rolled
    by one): the real images' wrong captions."""
    return text.roll(1, 0)


def matching_aware_d(d_real: Tensor, d_wrong: Tensor, d_fake: Tensor) -> Tensor:
    """D's loss on the logits of (real image, its text), (real image, another's text) and
    (generated image, its text); the two fake kinds weighted 1/2 each, as StackGAN's code does."""
    return bce_real(d_real) + 0.5 * (F.softplus(d_wrong).mean() + F.softplus(d_fake).mean())
