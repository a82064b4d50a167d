"""PatchGAN discriminator (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", Sec. 3.2.2 and App. 6.1.2): a fully convolutional critic that scores every
overlapping N x N patch of its input as real or fake, so it models high-frequency structure and
runs on images of any size. With ``layers=3`` each output sees a 70 x 70 patch (the paper's
default, also CycleGAN's D); ``layers=0`` is the 1 x 1 "PixelGAN".

Layout (pix2pix's ``NLayerDiscriminator``): C64 - C128 - C256 - C512 - 1, where Ck is a
4 x 4 conv, norm (none on the first), LeakyReLU(0.2); the first ``layers`` convs have stride 2,
the last two stride 1, and channels double per layer up to 8 x ``width``.

``cond_channels`` > 0 makes it conditional: ``forward(x, cond)`` concatenates the input image
(pix2pix feeds (A, B) so D judges the pair). ``affine=False`` gives the norms no learned scale
and shift and the convolutions before them a bias (the authors' code with instance norm);
``padding=2`` is pix2pixHD's (its 4x4 convs pad by ceil(3 / 2)).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.errors import ConfigError
from ganarium.nets.translator import norm_layer
from ganarium.nn.norms import check_norm, sn


def patchgan_receptive_field(layers: int) -> int:
    """Side of the input patch each output logit sees: 70 for layers=3, 34 for 2, 16 for 1,
    1 for the PixelGAN (layers=0)."""
    if layers == 0:
        return 1
    # kernels 4 everywhere; strides 2 (layers times) then 1, 1; walk back from one output pixel
    rf = 1
    for stride in reversed([2] * layers + [1, 1]):
        rf = (rf - 1) * stride + 4
    return rf


def patchgan_min_size(layers: int) -> int:
    """Smallest input side that still yields at least one patch logit."""
    if layers == 0:
        return 1
    # each stride-2 4x4 conv (padding 1) halves the side (floor); the two stride-1 ones take 1
    # each, so at least 3 must be left after downsampling
    return 3 * 2**layers


class PatchGANDiscriminator(nn.Module):
    """(B, channels, H, W) [+ cond (B, cond_channels, H, W)] -> patch logits (B, 1, H', W').

    width: channels of the first layer (the paper's ndf=64); layers: stride-2 layers, which set
    the receptive field (``patchgan_receptive_field``); norm: instance (CycleGAN), batch
    (pix2pix), spectral or none; affine: learned scale and shift in the norms (else biased
    convolutions); padding: of the 4x4 convolutions.
    """

    def __init__(
        self,
        channels: int,
        cond_channels: int = 0,
        width: int = 64,
        layers: int = 3,
        norm: str = "instance",
        slope: float = 0.2,
        affine: bool = True,
        padding: int = 1,
    ) -> None:
        super().__init__()
        if layers < 0:
            raise ConfigError(f"PatchGAN layers={layers} is negative: use 0 (PixelGAN) to 5")
        check_norm(norm)
        self.channels, self.cond_channels, self.layers = channels, cond_channels, layers
        spectral = norm == "spectral"
        bias = norm in ("none", "spectral") or not affine
        c_in = channels + cond_channels
        blocks: list[nn.Module] = []
        if layers == 0:  # PixelGAN: 1x1 convs
            blocks.append(
                nn.Sequential(sn(nn.Conv2d(c_in, width, 1), spectral), nn.LeakyReLU(slope, True))
            )
            blocks.append(
                nn.Sequential(
                    sn(nn.Conv2d(width, width * 2, 1, bias=bias), spectral),
                    norm_layer(norm, width * 2, affine),
                    nn.LeakyReLU(slope, True),
                )
            )
            self.blocks = nn.ModuleList(blocks)
            self.head = sn(nn.Conv2d(width * 2, 1, 1), spectral)
            return
        blocks.append(
            nn.Sequential(
                sn(nn.Conv2d(c_in, width, 4, 2, padding), spectral), nn.LeakyReLU(slope, True)
            )
        )
        c = width
        # layers-1 more stride-2 convs, then one stride-1 conv; channels double, capped at 8x
        for i in range(1, layers + 1):
            c_next = width * min(2**i, 8)
            stride = 2 if i < layers else 1
            blocks.append(
                nn.Sequential(
                    sn(nn.Conv2d(c, c_next, 4, stride, padding, bias=bias), spectral),
                    norm_layer(norm, c_next, affine),
                    nn.LeakyReLU(slope, True),
                )
            )
            c = c_next
        self.blocks = nn.ModuleList(blocks)
        self.head = sn(nn.Conv2d(c, 1, 4, 1, padding), spectral)

    @property
    def receptive_field(self) -> int:
        return patchgan_receptive_field(self.layers)

    def _input(self, x: Tensor, cond: Tensor | None) -> Tensor:
        if self.cond_channels:
            if cond is None or cond.shape[1] != self.cond_channels:
                got = "nothing" if cond is None else f"{cond.shape[1]} channels"
                raise ValueError(
                    f"this PatchGAN is conditional on {self.cond_channels} channels, got {got}"
                )
            x = torch.cat([cond, x], 1)
        elif cond is not None:
            raise ValueError(
                "this PatchGAN is unconditional: build it with cond_channels to pass cond"
            )
        side = min(x.shape[-2:])
        if side < patchgan_min_size(self.layers):
            raise ConfigError(
                f"a {self.layers}-layer PatchGAN needs images of at least "
                f"{patchgan_min_size(self.layers)} px, got {tuple(x.shape[-2:])}: use fewer layers"
            )
        return x

    def features(self, x: Tensor, cond: Tensor | None = None) -> list[Tensor]:
        """Every block's activation and, last, the patch logits (pix2pixHD's feature matching)."""
        h = self._input(x, cond)
        out = []
        for block in self.blocks:
            h = block(h)
            out.append(h)
        out.append(self.head(h))
        return out

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        h = self._input(x, cond)
        for block in self.blocks:
            h = block(h)
        return self.head(h)
