"""The pix2pix U-Net generator (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", Sec. 3.2.1 and App. 6.1.1): an encoder of 4x4 stride-2 convs
(C64-C128-C256-C512-C512-...), a decoder of 4x4 stride-2 transposed convs, and skip
connections that concatenate encoder layer i to decoder layer n - i, so low-level structure
(edges, positions) goes straight across the bottleneck.

As in the paper: no norm on the first encoder layer, LeakyReLU(0.2) in the encoder and ReLU in
the decoder, dropout 0.5 on the innermost decoder layers (pix2pix's only noise source), tanh
output; channels double per layer up to 8 x ``width``. ``depth`` downsamplings need sides
divisible by 2**depth (``nn.padding.run_padded`` pads any input). ``skips=False`` gives the
plain encoder-decoder the context encoder uses.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.errors import ConfigError
from ganarium.nn.norms import check_norm, feature_norm


def _down(c_in: int, c_out: int, norm: str | None, bias: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias and norm in (None, "none", "spectral")),
    ]
    if norm not in (None, "none", "spectral"):
        layers.append(feature_norm(norm, c_out))
    return nn.Sequential(*layers)


def _up(c_in: int, c_out: int, norm: str | None, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.ReLU(True),
        nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=norm in (None, "none", "spectral")),
    ]
    if norm not in (None, "none", "spectral"):
        layers.append(feature_norm(norm, c_out))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def unet_channels(width: int, depth: int) -> list[int]:
    """Encoder output channels: width, 2 width, 4 width, 8 width, 8 width, ..."""
    return [width * min(2**i, 8) for i in range(depth)]


class UNetGenerator(nn.Module):
    """(B, in_channels, H, W) -> (B, out_channels, H, W) in [-1, 1]; H, W divisible by
    2**depth (``multiple``).

    width: channels of the first layer (the paper's ngf = 64); depth: downsamplings (8 for
    256 x 256 in the paper; 4 for 16 x 16); dropout: on decoder layers 1..3 counted from the
    innermost (not the innermost itself, as pix2pix); norm: batch (pix2pix) or instance;
    encoder_bias: a bias on the encoder convs with no norm after them (the outermost and the
    innermost); pix2pix's code gives them none (with batch norm, as ``unet_256``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 64,
        depth: int = 8,
        norm: str = "batch",
        dropout: float = 0.5,
        skips: bool = True,
        encoder_bias: bool = True,
    ) -> None:
        super().__init__()
        if depth < 2:
            raise ConfigError(f"U-Net depth={depth} must be at least 2")
        check_norm(norm)
        self.depth, self.skips = depth, skips
        self.in_channels, self.out_channels = in_channels, out_channels
        ch = unet_channels(width, depth)
        self.down = nn.ModuleList(
            # the outermost layer: no activation, no norm
            [nn.Conv2d(in_channels, ch[0], 4, 2, 1, bias=encoder_bias)]
            + [
                _down(ch[i - 1], ch[i], norm if i < depth - 1 else None, encoder_bias)
                for i in range(1, depth)
            ]
        )
        ups: list[nn.Module] = []
        for j, i in enumerate(range(depth - 1, 0, -1)):  # decoder layer j restores ch[i - 1]
            c_in = ch[i] if (j == 0 or not skips) else 2 * ch[i]
            ups.append(_up(c_in, ch[i - 1], norm, dropout if 1 <= j <= 3 else 0.0))
        c_last = 2 * ch[0] if skips else ch[0]
        ups.append(
            nn.Sequential(
                nn.ReLU(True), nn.ConvTranspose2d(c_last, out_channels, 4, 2, 1), nn.Tanh()
            )
        )
        self.up = nn.ModuleList(ups)

    @property
    def multiple(self) -> int:
        """What H and W must be divisible by."""
        return 2**self.depth

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        if h % self.multiple or w % self.multiple:
            raise ConfigError(
                f"a depth-{self.depth} U-Net needs sides divisible by {self.multiple}, got "
                f"{h}x{w}: pad the input (nn.padding.run_padded) or lower the depth"
            )
        feats = []
        for layer in self.down:
            x = layer(x)
            feats.append(x)
        for j, layer in enumerate(self.up):
            if j > 0 and self.skips:
                x = torch.cat([x, feats[self.depth - 1 - j]], 1)
            x = layer(x)
        return x


def depth_for(size: int, bottleneck: int = 1) -> int:
    """The U-Net depth that takes a ``size`` side down to ``bottleneck`` (8 for 256, 4 for 16)."""
    depth, s = 0, size
    while s > bottleneck and s % 2 == 0:
        s, depth = s // 2, depth + 1
    return max(depth, 2)
