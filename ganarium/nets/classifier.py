"""A K-class classifier made of a discriminator's body and a linear head: the classifier of the
semi-supervised recipes (SSGAN, Triple-GAN) and IcGAN's encoders, and the baseline trained from
scratch on the same labels."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.nets import NETS


class FeatureClassifier(nn.Module):
    """A discriminator's body (``features``) plus an optional layer and a linear head:
    x -> logits (B, K). The same class serves as the baseline built from scratch.

    ``input_noise`` adds N(0, sigma^2) to the input while training, the regulariser of the
    semi-supervised discriminator of Salimans et al. 2016 (their MNIST model, sigma = 0.3);
    ``jitter`` shifts each input by up to that many pixels each way while training (edge pixels
    repeat), the translation augmentation of the mean teacher's digit experiments."""

    def __init__(
        self,
        body: nn.Module,
        head: nn.Module,
        extra: nn.Module | None = None,
        input_noise: float = 0.0,
        jitter: int = 0,
    ) -> None:
        super().__init__()
        self.body, self.head = body, head
        self.extra = extra if extra is not None else nn.Identity()
        self.input_noise = input_noise
        self.jitter = jitter

    def features(self, x: Tensor) -> Tensor:
        if self.training and self.jitter > 0:
            x = random_shift(x, self.jitter)
        if self.training and self.input_noise > 0:
            x = x + self.input_noise * torch.randn_like(x)
        return self.body.features(x)

    def logits_from(self, h: Tensor) -> Tensor:
        return self.head(self.extra(h))

    def forward(self, x: Tensor) -> Tensor:
        return self.logits_from(self.features(x))


def random_shift(x: Tensor, pixels: int) -> Tensor:
    """Each image of x (B, C, H, W) moved by its own integer offsets in [-pixels, pixels] along
    both axes; the pixels shifted in repeat the border."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, b), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channels, rows, cols]


def feature_classifier(
    info: DataInfo,
    net: str,
    width: int | None,
    norm: str,
    extra_dim: int = 0,
    input_noise: float = 0.0,
    jitter: int = 0,
) -> FeatureClassifier:
    """A K-class classifier made of a discriminator body from net family ``net`` and a linear
    head (``extra_dim`` wider for a layer such as minibatch discrimination, added by the caller)."""
    kw: dict[str, Any] = {"norm": norm, "cond": "none"}
    if width is not None:
        kw["width"] = width
    body = NETS.get(net).discriminator(dataclasses.replace(info, num_classes=0), **kw)
    head = nn.Linear(body.feature_dim + extra_dim, info.num_classes)
    return FeatureClassifier(body, head, input_noise=input_noise, jitter=jitter)
