"""pix2pixHD's nets (Wang et al. 2018, "High-Resolution Image Synthesis and Semantic
Manipulation with Conditional GANs", Sec. 3.2): the coarse-to-fine generator and the
multi-scale discriminators. Both are fully convolutional.

- ``GlobalGenerator`` G1 is CycleGAN's ResNet translator (``nets.translator``) with more
  downsamplings (4 in the paper), run on the input downsampled 2x.
- ``LocalEnhancer`` G2 wraps G1: its front end (c7 + one stride-2 conv) sees the full-size
  input, G1's last feature map (its output layer dropped) is added element-wise, then residual
  blocks and one upsampling give the full-size output (Fig. 3). ``coarse(x)`` is G1 alone at
  half size, trained first (the paper's coarse-to-fine schedule).
- ``MultiscaleDiscriminator``: ``scales`` identical PatchGANs (``nets.patchgan``) on the input
  downsampled 1x, 2x, 4x, ... (3x3 average pooling, stride 2), each exposing its intermediate
  features for the feature-matching loss; a scale whose input would be smaller than one patch
  is skipped, so small images still work.

``affine=False`` with ``padding=2`` (D) are the authors' code: instance norms without a learned
scale and shift, every convolution biased, the PatchGANs' 4x4 convs padded by 2. Both nets take
non-square inputs (Cityscapes' 2048x1024: sides multiples of ``multiple``).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

from ganarium.nets.patchgan import PatchGANDiscriminator, patchgan_min_size
from ganarium.nets.translator import ResnetBlock, ResnetTranslator, conv_bias, norm_layer


def downsample2(x: Tensor) -> Tensor:
    """pix2pixHD's downsampling: 3x3 average pooling, stride 2, padding not counted."""
    return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)


class LocalEnhancer(nn.Module):
    """(B, in_channels, H, W) -> (B, out_channels, H, W) in [-1, 1]; H, W multiples of
    ``multiple`` = 2 ** (global_downsamplings + 1).

    width: the local enhancer's channels (the global generator has twice as many, as in the
    paper's ngf_global = 2 ngf); global_blocks / local_blocks: residual blocks of G1 / G2
    (9 and 3 in the paper); affine: learned scale and shift in the norms (else biased convs).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 32,
        global_downsamplings: int = 4,
        global_blocks: int = 9,
        local_blocks: int = 3,
        norm: str = "instance",
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.global_net = ResnetTranslator(
            in_channels,
            out_channels,
            2 * width,
            global_blocks,
            global_downsamplings,
            norm,
            affine=affine,
        )
        self.multiple = 2 ** (global_downsamplings + 1)
        bias = conv_bias(norm, affine)
        self.front = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, width, 7, bias=bias),
            norm_layer(norm, width, affine),
            nn.ReLU(True),
            nn.Conv2d(width, 2 * width, 3, 2, 1, bias=bias),
            norm_layer(norm, 2 * width, affine),
            nn.ReLU(True),
        )
        self.back = nn.Sequential(
            *[ResnetBlock(2 * width, norm, affine=affine) for _ in range(local_blocks)],
            nn.ConvTranspose2d(2 * width, width, 3, 2, 1, output_padding=1, bias=bias),
            norm_layer(norm, width, affine),
            nn.ReLU(True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(width, out_channels, 7),
            nn.Tanh(),
        )

    def global_features(self, x_half: Tensor) -> Tensor:
        """G1's last feature map (its output layer -- pad, c7, tanh -- dropped), at half size."""
        return self.global_net.body[:-3](x_half)

    def coarse(self, x_half: Tensor) -> Tensor:
        """G1 alone on a half-size input: the coarse stage's output at half size."""
        return self.global_net(x_half)

    def forward(self, x: Tensor) -> Tensor:
        return self.back(self.front(x) + self.global_features(downsample2(x)))


class MultiscaleDiscriminator(nn.Module):
    """``scales`` conditional PatchGANs on (output, input) pairs at 1x, 1/2, 1/4, ... size.

    ``features(y, x)`` -> one list per scale used: the PatchGAN's intermediate activations and,
    last, its patch logits (Sec. 3.2, Eq. 4's feature-matching loss reads the activations)."""

    def __init__(
        self,
        channels: int,
        cond_channels: int = 0,
        scales: int = 3,
        width: int = 64,
        layers: int = 3,
        norm: str = "instance",
        affine: bool = True,
        padding: int = 1,
    ) -> None:
        super().__init__()
        self.min_side = patchgan_min_size(layers)
        self.nets = nn.ModuleList(
            [
                PatchGANDiscriminator(
                    channels, cond_channels, width, layers, norm, affine=affine, padding=padding
                )
                for _ in range(scales)
            ]
        )

    def features(self, y: Tensor, x: Tensor | None = None) -> list[list[Tensor]]:
        out = []
        for i, net in enumerate(self.nets):
            if i > 0:
                y, x = downsample2(y), (downsample2(x) if x is not None else None)
            if i > 0 and min(y.shape[-2:]) < self.min_side:
                break  # smaller than one patch: this scale and coarser ones are skipped
            out.append(net.features(y, x))
        return out

    def forward(self, y: Tensor, x: Tensor | None = None) -> list[Tensor]:
        """Each used scale's patch logits."""
        return [f[-1] for f in self.features(y, x)]
