"""Content (perceptual) losses: the mean squared gap between a frozen feature net's maps of the
outputs and of the targets, l_X of SRGAN (Ledig et al. 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network", Eqs. 4-5), or of the pixels.

``vgg54`` / ``vgg22``: VGG19's maps (``nets.vgg``), loaded when first asked for (training),
so building and sampling never need the weights; ``digit-classifier``: the last conv block of
the project's digit classifier (``nets.content``, 1-channel images); ``pixels``: the pixel MSE.
The feature net is no module of the recipe: it stays out of its nets and state dict."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.errors import ConfigError
from ganarium.nets.content import digit_features
from ganarium.nets.vgg import MIN_SIDE, VGG_LAYERS, vgg_features

CONTENT_KINDS = ("auto", "digit-classifier", "pixels", *VGG_LAYERS)


class ContentLoss:
    """``loss(fake, real)``: ``scale`` x MSE of the ``kind`` features of fake and real images of
    ``shape`` (C, H, W), the target's features without a graph; plain MSE for ``pixels``.
    ``auto`` is digit-classifier for 1-channel images, else pixels. ``owner`` names the recipe
    in the one-line refusals."""

    def __init__(
        self,
        kind: str,
        shape: tuple[int, ...],
        weights: str = "",
        scale: float = 1.0,
        owner: str = "content",
    ) -> None:
        c, sides = shape[0], tuple(shape[1:])
        if kind == "auto":
            kind = "digit-classifier" if c == 1 else "pixels"
        if kind == "digit-classifier" and c != 1:
            raise ConfigError(
                f"{owner} content=digit-classifier reads 1-channel images: use pixels"
            )
        if kind in VGG_LAYERS and min(sides) < MIN_SIDE[kind]:
            raise ConfigError(
                f"{owner} content={kind} reads targets of at least {MIN_SIDE[kind]}x"
                f"{MIN_SIDE[kind]}, got {sides}: use content=pixels or larger crops"
            )
        self.kind, self.weights, self.scale = kind, weights, scale
        self.net: nn.Module | None = digit_features() if kind == "digit-classifier" else None

    def feature_net(self) -> nn.Module | None:
        """The frozen net whose maps are compared (None: pixels); VGG's is loaded here."""
        if self.kind in VGG_LAYERS and self.net is None:
            self.net = vgg_features(self.kind, self.weights)
        return self.net

    def __call__(self, fake: Tensor, real: Tensor) -> Tensor:
        phi = self.feature_net()
        if phi is None:
            return F.mse_loss(fake, real)
        phi = phi.to(fake.device)
        with torch.no_grad():
            target = phi(real)
        return self.scale * F.mse_loss(phi(fake), target)
