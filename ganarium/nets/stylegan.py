"""Style-based generators and their discriminators (Karras et al. 2019, 2020).

Both generators are a mapping network z -> w and a synthesis network that starts from a learned
4x4 constant and reads one w per layer, ``ws`` (B, num_ws, w_dim), two per resolution (the
first two of 4x4, then two of each doubling), so styles can be mixed by layer.

- ``StyleGenerator`` (StyleGAN, Fig. 1b): per layer conv3x3 (after x2 upsampling and the blur
  filter at a new resolution), noise, leaky ReLU, AdaIN(w); one toRGB at the end.
- ``Style2Generator`` (StyleGAN2, Fig. 2d and 7): modulated/demodulated conv3x3, noise, bias
  and leaky ReLU; the skip architecture: every resolution's toRGB (a modulated 1x1 conv without
  demodulation) adds to the upsampled image of the coarser one.
- ``ResidualDiscriminator`` (StyleGAN2 Fig. 7c): fromRGB, residual down blocks, minibatch
  stddev, conv3x3 and two dense layers at 4x4.

Channels follow ``width`` (halving after 8x8) or, with ``channel_base``, min(channel_base / r,
channel_max) at resolution r; ``nets.stylegan2_official`` has StyleGAN2 at the authors' layout.
StyleGAN's options for the paper's layout: ``fused_from`` (the x2 upsampling and conv3x3 as one
transposed conv from that resolution on) and ``blur_taps`` (the authors' [1, 2, 1]).

Noise: random in training; ``noise_mode='const'`` (the sampling default) uses fixed per-layer
buffers, so the same w gives the same image, as in the authors' generation code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.nets.progan import channel_plan, levels_for
from ganarium.nn.filters import BINOMIAL, Blur, Upsample
from ganarium.nn.minibatch import MinibatchStddev
from ganarium.nn.progressive import FusedUpConv
from ganarium.nn.style import (
    LRELU_GAIN,
    AdaIN,
    ConstantInput,
    EqualizedConv2d,
    EqualizedLinear,
    MappingNetwork,
    ModulatedConv2d,
    NoiseInput,
    ResidualDownBlock,
    skip_output,
)


class _Synthesis(nn.Module):
    """What both generators share: the mapping net, sizes, fixed noise and the z -> ws path."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int,
        w_dim: int,
        mapping_layers: int,
        width: int,
        channel_base: int = 0,
        channel_max: int = 512,
        mapping_lr_mul: float = 0.01,
    ) -> None:
        super().__init__()
        self.levels = levels_for(info, "stylegan")
        self.z_dim, self.w_dim, self.num_ws = z_dim, w_dim, 2 * self.levels
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, mapping_lr_mul)
        self.channels = channel_plan(self.levels, width, channel_base, channel_max)

    def fixed_noise(self, sizes: list[int]) -> None:
        """One fixed noise image per noisy layer (``sizes``: each layer's resolution)."""
        for i, size in enumerate(sizes):
            self.register_buffer(f"noise_{i}", torch.randn(1, 1, size, size))

    def noise(self, i: int, x: Tensor, mode: str) -> Tensor | None:
        """Layer i's noise: None (fresh random) in 'random' mode, the fixed buffer in 'const'."""
        if mode == "random":
            return None
        fixed = getattr(self, f"noise_{i}").to(x.dtype)
        return fixed.expand(x.shape[0], -1, -1, -1) if mode == "const" else fixed * 0

    def forward(self, z: Tensor, noise_mode: str = "const") -> Tensor:
        """z (B, z_dim) -> images: the same w at every layer."""
        w = self.mapping(z)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise_mode)

    def synthesis(self, ws: Tensor, noise_mode: str = "const") -> Tensor:
        raise NotImplementedError


class StyleGenerator(_Synthesis):
    """StyleGAN: ws (B, num_ws, w_dim) -> images (B, C, R, R), linear output."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 512,
        w_dim: int = 512,
        mapping_layers: int = 8,
        width: int = 512,
        channel_base: int = 0,
        channel_max: int = 512,
        mapping_lr_mul: float = 0.01,
        fused_from: int = 0,
        blur_taps: tuple[float, ...] = BINOMIAL,
    ) -> None:
        super().__init__(
            info, z_dim, w_dim, mapping_layers, width, channel_base, channel_max, mapping_lr_mul
        )
        self.const = ConstantInput(self.channels[0])
        self.convs, self.noises, self.styles = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i in range(self.num_ws):  # layer i works at level i // 2
            lv = i // 2
            c_in, c_out = self.channels[lv - 1 if i % 2 == 0 and i else lv], self.channels[lv]
            if i == 0:
                conv: nn.Module = nn.Identity()  # the constant is the first layer's input
            elif i % 2 == 0 and 0 < fused_from <= 4 * 2**lv:  # x2 and conv as one, then blur
                conv = nn.Sequential(
                    FusedUpConv(c_in, c_out, 3, LRELU_GAIN), Blur(tuple(blur_taps))
                )
            elif i % 2 == 0:  # a new resolution: x2, conv, blur (Sec. 2 and App. C)
                conv = nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    EqualizedConv2d(c_in, c_out, 3, LRELU_GAIN),
                    Blur(tuple(blur_taps)),
                )
            else:
                conv = EqualizedConv2d(c_in, c_out, 3, LRELU_GAIN)
            self.convs.append(conv)
            self.noises.append(NoiseInput(c_out))
            self.styles.append(AdaIN(c_out, w_dim))
        self.to_rgb = EqualizedConv2d(self.channels[-1], info.channels, 1)
        self.fixed_noise([4 * 2 ** (i // 2) for i in range(self.num_ws)])

    def synthesis(self, ws: Tensor, noise_mode: str = "const") -> Tensor:
        x = self.const(ws.shape[0])
        for i in range(self.num_ws):
            x = self.convs[i](x)
            x = F.leaky_relu(self.noises[i](x, self.noise(i, x, noise_mode)), 0.2)
            x = self.styles[i](x, ws[:, i])
        return self.to_rgb(x)


class _StyledConv(nn.Module):
    """Modulated conv, noise, bias and leaky ReLU (StyleGAN2 Fig. 2d)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, up: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(c_in, c_out, 3, w_dim, demodulate=True, up=up)
        self.noise = NoiseInput(c_out)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: Tensor, w: Tensor, noise: Tensor | None) -> Tensor:
        x = self.noise(self.conv(x, w), noise) + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * LRELU_GAIN


class Style2Generator(_Synthesis):
    """StyleGAN2 with the skip architecture: ws (B, num_ws, w_dim) -> images (B, C, R, R)."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 512,
        w_dim: int = 512,
        mapping_layers: int = 8,
        width: int = 512,
        channel_base: int = 0,
        channel_max: int = 512,
        mapping_lr_mul: float = 0.01,
    ) -> None:
        super().__init__(
            info, z_dim, w_dim, mapping_layers, width, channel_base, channel_max, mapping_lr_mul
        )
        ch = self.channels
        self.const = ConstantInput(ch[0])
        self.convs = nn.ModuleList([_StyledConv(ch[0], ch[0], w_dim)])
        for lv in range(1, self.levels):
            self.convs.append(_StyledConv(ch[lv - 1], ch[lv], w_dim, up=True))
            self.convs.append(_StyledConv(ch[lv], ch[lv], w_dim))
        self.to_rgb = nn.ModuleList(
            ModulatedConv2d(c, info.channels, 1, w_dim, demodulate=False) for c in ch
        )
        self.rgb_bias = nn.Parameter(torch.zeros(self.levels, info.channels))
        self.upsample = Upsample()
        self.fixed_noise([4 * 2 ** ((k + 1) // 2) for k in range(len(self.convs))])

    def synthesis(self, ws: Tensor, noise_mode: str = "const") -> Tensor:
        # the authors' indexing: conv k reads w_k, level l's toRGB reads w_(2l+1), the w its
        # next conv reads, so 2 * levels ws in all
        x = self.const(ws.shape[0])
        rgb = None
        for lv in range(self.levels):
            for k in (2 * lv - 1, 2 * lv) if lv else (0,):  # level l's convs
                x = self.convs[k](x, ws[:, k], self.noise(k, x, noise_mode))
            out = self.to_rgb[lv](x, ws[:, 2 * lv + 1]) + self.rgb_bias[lv][None, :, None, None]
            rgb = skip_output(rgb, out, self.upsample)
        return rgb


class ResidualDiscriminator(nn.Module):
    """images (B, C, R, R) -> logits (B,)."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 512,
        group_size: int = 4,
        channel_base: int = 0,
        channel_max: int = 512,
    ) -> None:
        super().__init__()
        levels = levels_for(info, "stylegan2")
        ch = channel_plan(levels, width, channel_base, channel_max)
        self.from_rgb = nn.Sequential(
            EqualizedConv2d(info.channels, ch[-1], 1, LRELU_GAIN), nn.LeakyReLU(0.2)
        )
        self.blocks = nn.Sequential(
            *(ResidualDownBlock(ch[lv], ch[lv - 1]) for lv in range(levels - 1, 0, -1))
        )
        self.final = nn.Sequential(
            MinibatchStddev(group_size),
            EqualizedConv2d(ch[0] + 1, ch[0], 3, LRELU_GAIN),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            EqualizedLinear(ch[0] * 16, ch[0], LRELU_GAIN),
            nn.LeakyReLU(0.2),
            EqualizedLinear(ch[0], 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.final(self.blocks(self.from_rgb(x))).squeeze(1)
