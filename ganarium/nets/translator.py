"""Image-to-image translators for the unpaired family, and the pad-and-crop helper that lets any
fully convolutional translator take images of any size.

- ``ResnetTranslator``: CycleGAN's generator (Zhu et al. 2017, "Unpaired Image-to-Image
  Translation using Cycle-Consistent Adversarial Networks", App. 7.2, after Johnson et al.
  2016): c7s1-64, d128, d256, ``blocks`` x R256, u128, u64, c7s1-3, with reflection padding and
  instance norm; 6 blocks for 128 px, 9 for 256 px. ``width`` scales every layer,
  ``downsamplings`` sets how many stride-2 stages there are (2 in the paper).
- ``EncoderDecoderTranslator``: DiscoGAN's generator (Kim et al. 2017, "Learning to Discover
  Cross-Domain Relations with Generative Adversarial Networks", Sec. 4): 4x4 stride-2 convs with
  LeakyReLU down to a bottleneck, 4x4 stride-2 deconvolutions with ReLU back up, no skips.
- ``translate_in_eval(net, x, multiple)``: the net in eval mode on images of any size, through
  ``nn.padding.run_padded`` (reflect-pad to multiples of ``multiple``, crop back).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.errors import ConfigError
from ganarium.nn.norms import check_norm, feature_norm
from ganarium.nn.padding import run_padded


class ResnetBlock(nn.Module):
    """x + [reflect-pad, 3x3 conv, norm, ReLU, reflect-pad, 3x3 conv, norm](x)."""

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=norm == "none"),
            feature_norm(norm, channels),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=norm == "none"),
            feature_norm(norm, channels),
        ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetTranslator(nn.Module):
    """(B, in_channels, H, W) -> (B, out_channels, H, W) in [-1, 1]; H and W multiples of
    ``multiple`` (= 2**downsamplings; ``translate`` pads other sizes)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 64,
        blocks: int = 9,
        downsamplings: int = 2,
        norm: str = "instance",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_norm(norm)
        if norm == "spectral":
            raise ConfigError(
                "the ResNet translator takes batch, instance, layer or no norm, not spectral"
            )
        if blocks < 0 or downsamplings < 0:
            raise ConfigError(
                f"translator blocks={blocks} and downsamplings={downsamplings} must be >= 0"
            )
        self.multiple = 2**downsamplings
        bias = norm == "none"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, width, 7, bias=bias),
            feature_norm(norm, width),
            nn.ReLU(True),
        ]
        c = width
        for _ in range(downsamplings):
            layers += [
                nn.Conv2d(c, c * 2, 3, 2, 1, bias=bias),
                feature_norm(norm, c * 2),
                nn.ReLU(True),
            ]
            c *= 2
        layers += [ResnetBlock(c, norm, dropout) for _ in range(blocks)]
        for _ in range(downsamplings):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                feature_norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class EncoderDecoderTranslator(nn.Module):
    """DiscoGAN's G: ``depth`` 4x4 stride-2 convs (LeakyReLU 0.2, norm after the first) from
    ``width`` doubling to a bottleneck, then as many 4x4 stride-2 deconvolutions (norm, ReLU)
    back to (B, out_channels, H, W) in [-1, 1]. H and W multiples of 2**depth."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 64,
        depth: int = 4,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        check_norm(norm)
        if depth < 1:
            raise ConfigError(f"encoder-decoder depth={depth} must be >= 1")
        self.multiple = 2**depth
        bias = norm in ("none", "spectral")
        enc: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(depth - 1):
            enc += [
                nn.Conv2d(c, c * 2, 4, 2, 1, bias=bias),
                feature_norm(norm, c * 2),
                nn.LeakyReLU(0.2, True),
            ]
            c *= 2
        dec: list[nn.Module] = []
        for _ in range(depth - 1):
            dec += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=bias),
                feature_norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        dec += [nn.ConvTranspose2d(c, out_channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*enc, *dec)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


def init_normal(net: nn.Module, std: float = 0.02) -> nn.Module:
    """pix2pix / CycleGAN's initialisation: conv weights N(0, 0.02), norm scales N(1, 0.02),
    biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif (
            isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm))
            and m.weight is not None
        ):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return net


@torch.no_grad()
def translate_in_eval(net: nn.Module, x: Tensor, multiple: int) -> Tensor:
    """``run_padded`` with ``net`` in eval mode (batch norm's running statistics, no dropout),
    restoring its mode."""
    was = net.training
    net.eval()
    try:
        return run_padded(net, x, multiple)
    finally:
        net.train(was)
