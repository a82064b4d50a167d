"""Progressive GAN nets (Karras et al. 2018, "Progressive Growing of GANs", Table 2): one block
per resolution 4, 8, ..., R, each with its own toRGB / fromRGB, called at a resolution level
``level`` (4 * 2**level pixels) and fade-in ``alpha``.

G: pixel-normed z -> 4x4 (a dense layer, conv3x3), then per level nearest x2 and two conv3x3,
leaky ReLU(0.2) and pixel norm after every conv; toRGB is a linear 1x1 conv. D mirrors it:
fromRGB 1x1, per level two conv3x3 and 2x2 average pooling, then minibatch stddev, conv3x3 and
two dense layers at 4x4. Every layer uses the equalized learning rate. Channels halve from
``width`` at each level after the second (the paper's 512 ... 16 schedule, scaled down), or, with
``channel_base``, follow the paper's plan min(channel_base / r, channel_max) at resolution r (the
authors' fmap_base 8192 is channel_base 16384). ``fused_from`` fuses the resampling with the
convolution from that resolution on, as the authors' code does (x2 nearest + conv3x3 as one
stride-2 transposed 4x4 conv; conv3x3 + 2x2 average as one stride-2 4x4 conv); ``blur_taps``
low-passes D's features before each downsampling convolution (StyleGAN's D).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nets import check_image, upsampling_plan
from ganarium.nn.filters import Blur
from ganarium.nn.minibatch import MinibatchStddev
from ganarium.nn.progressive import FusedDownConv, FusedUpConv, fade_in
from ganarium.nn.style import LRELU_GAIN, EqualizedConv2d, EqualizedLinear, PixelNorm, pixel_norm


def levels_for(info: DataInfo, family: str) -> int:
    """Resolution levels 4, 8, ..., R of the data (R = 4 * 2**k)."""
    check_image(info, family)
    r0, k = upsampling_plan(info.resolution)
    if r0 != 4:
        raise ConfigError(
            f"{family} grows from 4x4 by doubling, so it needs a resolution of 4 * 2**k (8, 16, "
            f"32, 64, ...), not {info.resolution}: set data.size=16 or 32"
        )
    return k + 1


def level_channels(width: int, level: int) -> int:
    """Channels at ``level``: ``width`` at 4x4 and 8x8, halving after, at least 8."""
    return max(8, width // 2 ** max(0, level - 1))


def channel_plan(
    levels: int, width: int, channel_base: int = 0, channel_max: int = 512
) -> list[int]:
    """Channels at levels 0 .. levels-1 (resolution r = 4 * 2**level): min(channel_base // r,
    channel_max), or ``level_channels(width, level)`` when ``channel_base`` is 0."""
    if channel_base == 0:
        return [level_channels(width, lv) for lv in range(levels)]
    plan = [min(channel_base // (4 * 2**lv), channel_max) for lv in range(levels)]
    if min(plan) < 1 or channel_max < 1:
        raise ConfigError(
            f"channel_base={channel_base} leaves no channels at {4 * 2 ** (levels - 1)}x"
            f"{4 * 2 ** (levels - 1)}: raise it to at least {4 * 2 ** (levels - 1)}"
        )
    return plan


def _conv(
    c_in: int, c_out: int, norm: bool, kernel: int = 3, layer: type = EqualizedConv2d
) -> list[nn.Module]:
    layers: list[nn.Module] = [layer(c_in, c_out, kernel, LRELU_GAIN), nn.LeakyReLU(0.2)]
    return layers + [PixelNorm()] if norm else layers


def _fused(fused_from: int, level: int) -> bool:
    """Whether level's resampling conv is fused (``fused_from``: a resolution, 0 for never)."""
    return 0 < fused_from <= 4 * 2**level


class ProGANGenerator(nn.Module):
    """z (B, z_dim) -> images (B, C, r, r) at r = 4 * 2**level, linear output."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 512,
        width: int = 512,
        channel_base: int = 0,
        channel_max: int = 512,
        fused_from: int = 0,
    ) -> None:
        super().__init__()
        self.levels, self.z_dim = levels_for(info, "progan"), z_dim
        ch = channel_plan(self.levels, width, channel_base, channel_max)
        self.fused = [_fused(fused_from, lv) for lv in range(self.levels)]
        c0 = ch[0]
        self.dense = EqualizedLinear(z_dim, c0 * 16, LRELU_GAIN / 4)  # the paper's 4x4 deconv
        self.blocks = nn.ModuleList([nn.Sequential(*_conv(c0, c0, True))])
        for lv in range(1, self.levels):
            c_in, c_out = ch[lv - 1], ch[lv]
            up = FusedUpConv if self.fused[lv] else EqualizedConv2d
            self.blocks.append(
                nn.Sequential(*_conv(c_in, c_out, True, layer=up), *_conv(c_out, c_out, True))
            )
        self.to_rgb = nn.ModuleList(
            EqualizedConv2d(ch[lv], info.channels, 1) for lv in range(self.levels)
        )

    def forward(self, z: Tensor, level: int, alpha: float = 1.0) -> Tensor:
        h = self.dense(pixel_norm(z)).view(len(z), -1, 4, 4)
        h = self.blocks[0](pixel_norm(F.leaky_relu(h, 0.2)))
        previous = h
        for lv in range(1, level + 1):
            previous = h
            h = h if self.fused[lv] else F.interpolate(h, scale_factor=2, mode="nearest")
            h = self.blocks[lv](h)
        out = self.to_rgb[level](h)
        if level == 0 or alpha >= 1.0:
            return out
        old = F.interpolate(self.to_rgb[level - 1](previous), scale_factor=2, mode="nearest")
        return fade_in(old, out, alpha)


class ProGANDiscriminator(nn.Module):
    """images (B, C, r, r) at r = 4 * 2**level -> logits (B,)."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 512,
        group_size: int = 4,
        channel_base: int = 0,
        channel_max: int = 512,
        fused_from: int = 0,
        blur_taps: tuple[float, ...] = (),
    ) -> None:
        super().__init__()
        self.levels = levels_for(info, "progan")
        ch = channel_plan(self.levels, width, channel_base, channel_max)
        self.from_rgb = nn.ModuleList(
            nn.Sequential(
                EqualizedConv2d(info.channels, ch[lv], 1, LRELU_GAIN),
                nn.LeakyReLU(0.2),
            )
            for lv in range(self.levels)
        )
        self.blocks = nn.ModuleList([nn.Identity()])  # level 0's block is the final block
        for lv in range(1, self.levels):
            c_in, c_out = ch[lv], ch[lv - 1]
            layers = _conv(c_in, c_in, False)  # (created first: the init's RNG order)
            layers += [Blur(tuple(blur_taps))] if blur_taps else []
            if _fused(fused_from, lv):
                layers += _conv(c_in, c_out, False, layer=FusedDownConv)
            else:
                layers += [*_conv(c_in, c_out, False), nn.AvgPool2d(2)]
            self.blocks.append(nn.Sequential(*layers))
        c0 = ch[0]
        self.final = nn.Sequential(
            MinibatchStddev(group_size),
            *_conv(c0 + 1, c0, False),
            nn.Flatten(),
            EqualizedLinear(c0 * 16, c0, LRELU_GAIN),
            nn.LeakyReLU(0.2),
            EqualizedLinear(c0, 1),
        )

    def forward(self, x: Tensor, level: int, alpha: float = 1.0) -> Tensor:
        h = self.blocks[level](self.from_rgb[level](x))
        if level > 0 and alpha < 1.0:
            h = fade_in(self.from_rgb[level - 1](F.avg_pool2d(x, 2)), h, alpha)
        for lv in range(level - 1, 0, -1):
            h = self.blocks[lv](h)
        return self.final(h).squeeze(1)
