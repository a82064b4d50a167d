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
- ``translate_in_train(net, x, multiple)``: the same in train mode (dropout on, batch norm on
  the batch's statistics), leaving the net's running statistics and weights as they were.

``affine=False`` builds the nets as the authors' code does with instance norm: norms without a
learned scale and shift, and a bias on every convolution before them instead.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ganarium.errors import ConfigError
from ganarium.nn.norms import check_norm, feature_norm
from ganarium.nn.padding import run_padded


def norm_layer(norm: str, channels: int, affine: bool = True) -> nn.Module:
    """``feature_norm(norm, channels)``, or with ``affine=False`` the same norm without a learned
    scale and shift."""
    if affine or norm in ("none", "spectral"):
        return feature_norm(norm, channels)
    if norm == "batch":
        return nn.BatchNorm2d(channels, affine=False)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    return nn.GroupNorm(1, channels, affine=False)


def conv_bias(norm: str, affine: bool = True) -> bool:
    """Whether a convolution followed by ``norm`` carries a bias: when nothing after it shifts."""
    return norm == "none" or not affine


class ResnetBlock(nn.Module):
    """x + [reflect-pad, 3x3 conv, norm, ReLU, reflect-pad, 3x3 conv, norm](x)."""

    def __init__(
        self, channels: int, norm: str = "instance", dropout: float = 0.0, affine: bool = True
    ) -> None:
        super().__init__()
        bias = conv_bias(norm, affine)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels, affine),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels, affine),
        ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetTranslator(nn.Module):
    """(B, in_channels, H, W) -> (B, out_channels, H, W) in [-1, 1]; H and W multiples of
    ``multiple`` (= 2**downsamplings; ``translate`` pads other sizes). ``affine=False``: norms
    without scale and shift, biased convs (junyanz's ``resnet_9blocks`` with instance norm)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 64,
        blocks: int = 9,
        downsamplings: int = 2,
        norm: str = "instance",
        dropout: float = 0.0,
        affine: bool = True,
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
        bias = conv_bias(norm, affine)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, width, 7, bias=bias),
            norm_layer(norm, width, affine),
            nn.ReLU(True),
        ]
        c = width
        for _ in range(downsamplings):
            layers += [
                nn.Conv2d(c, c * 2, 3, 2, 1, bias=bias),
                norm_layer(norm, c * 2, affine),
                nn.ReLU(True),
            ]
            c *= 2
        layers += [ResnetBlock(c, norm, dropout, affine) for _ in range(blocks)]
        for _ in range(downsamplings):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                norm_layer(norm, c // 2, affine),
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


@torch.no_grad()
def translate_in_train(
    net: nn.Module, x: Tensor, multiple: int, scale: int = 1, minimum: int = 1
) -> Tensor:
    """``run_padded`` with ``net`` in train mode, as pix2pix translates at test time (Isola et
    al. 2017, Sec. 3.3: dropout kept, batch norm on the test batch's statistics). The net runs
    on copies of its buffers, so its running statistics do not move; its mode is restored."""
    was = net.training
    net.train()
    try:
        buffers = {name: b.clone() for name, b in net.named_buffers()}
        return run_padded(
            lambda t: functional_call(net, buffers, (t,)), x, multiple, scale, minimum
        )
    finally:
        net.train(was)
