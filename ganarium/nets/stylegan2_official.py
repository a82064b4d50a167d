"""StyleGAN2's generator and discriminator at the authors' layout (Karras et al. 2020, "Analyzing
and Improving the Image Quality of StyleGAN", Fig. 7 and App. B, config F; as in their
stylegan2-ada code): the same parameter count and shapes as the official nets at the same
channel plan, for the presets that reproduce the paper.

- ``LabelledMapping``: pixel-normed z (and, when conditional, the pixel-normed embedding of the
  one-hot label) -> ``layers`` dense layers at lr x ``lr_mul`` -> w, with the running mean of w
  the truncation trick pulls towards; with z_dim 0 it maps labels alone (D's label map).
- ``OfficialStyle2Generator``: a learned 4x4 constant, per resolution an upsampling modulated
  conv and a modulated conv, and the skip architecture's toRGB at every resolution.
- ``OfficialStyle2Discriminator``: fromRGB, per resolution a residual block ('resnet': (conv3 ->
  conv3 with filtered stride-2 down, before its activation) + filtered 1x1 down, both times
  sqrt(0.5)) or a plain one ('orig'), then minibatch stddev, conv3, dense and the output layer;
  conditional: the output is projected on a mapping of the label, as the authors' cmap.

Channels at resolution r are min(channel_base // r, channel_max) (``channel_plan``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nets.progan import channel_plan, levels_for
from ganarium.nn.filters import fir_kernel, upsample2d
from ganarium.nn.style import pixel_norm
from ganarium.nn.stylegan2_layers import (
    Conv2dLayer,
    FullyConnected,
    MinibatchStd,
    SynthesisLayer,
    ToRGB,
)

D_ARCHITECTURES = ("resnet", "orig")


class LabelledMapping(nn.Module):
    """z (B, z_dim), labels (B,) -> w (B, w_dim); ``w_avg`` kept when ``beta`` is given."""

    def __init__(
        self,
        z_dim: int,
        num_classes: int,
        w_dim: int,
        layers: int = 8,
        lr_mul: float = 0.01,
        beta: float | None = 0.995,
    ) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.w_dim, self.layers = z_dim, num_classes, w_dim, layers
        embed = w_dim if num_classes else 0
        if num_classes:
            self.embed = FullyConnected(num_classes, embed)
        dims = [z_dim + embed] + [w_dim] * layers
        for i in range(layers):
            setattr(self, f"fc{i}", FullyConnected(dims[i], dims[i + 1], "lrelu", lr_mul))
        self.beta = beta
        if beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self, z: Tensor | None, labels: Tensor | None = None, track: bool = False
    ) -> Tensor:
        parts = []
        if self.z_dim:
            parts.append(pixel_norm(z.float()))
        if self.num_classes:
            if labels is None:
                raise ConfigError("this conditional StyleGAN2 needs class labels")
            onehot = F.one_hot(labels.long(), self.num_classes).float()
            parts.append(pixel_norm(self.embed(onehot)))
        x = torch.cat(parts, 1) if len(parts) > 1 else parts[0]
        for i in range(self.layers):
            x = getattr(self, f"fc{i}")(x)
        if track and self.beta is not None:
            with torch.no_grad():
                self.w_avg.lerp_(x.detach().float().mean(0), 1.0 - self.beta)
        return x

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """w_avg + psi (w - w_avg)."""
        return self.w_avg.to(w.dtype) + psi * (w - self.w_avg.to(w.dtype))


class SynthesisBlock(nn.Module):
    """One resolution: (x, img) at r/2 -> (x, img) at r, reading num_conv + 1 ws."""

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int
    ) -> None:
        super().__init__()
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution)
        self.torgb = ToRGB(out_channels, img_channels, w_dim)
        self.register_buffer("kernel", fir_kernel(), persistent=False)
        self.num_conv = 1 if in_channels == 0 else 2

    def forward(
        self, x: Tensor | None, img: Tensor | None, ws: Tensor, noise_mode: str
    ) -> tuple[Tensor, Tensor]:
        if x is None:
            x = self.const.to(ws.dtype)[None].expand(ws.shape[0], -1, -1, -1)
            x = self.conv1(x, ws[:, 0], noise_mode)
        else:
            x = self.conv1(self.conv0(x, ws[:, 0], noise_mode), ws[:, 1], noise_mode)
        rgb = self.torgb(x, ws[:, self.num_conv])
        return x, rgb if img is None else upsample2d(img, self.kernel) + rgb


class OfficialSynthesis(nn.Module):
    """ws (B, num_ws, w_dim) -> images (B, C, R, R); block r reads ws[i : i + num_conv + 1]
    from the index i where its first conv reads, so each toRGB shares the next conv's w."""

    def __init__(self, w_dim: int, channels: list[int], img_channels: int) -> None:
        super().__init__()
        self.resolutions = [4 * 2**lv for lv in range(len(channels))]
        for lv, res in enumerate(self.resolutions):
            c_in = channels[lv - 1] if lv else 0
            setattr(self, f"b{res}", SynthesisBlock(c_in, channels[lv], w_dim, res, img_channels))
        self.num_ws = 2 * len(channels)

    def forward(self, ws: Tensor, noise_mode: str = "const") -> Tensor:
        x = img = None
        start = 0
        for res in self.resolutions:
            block = getattr(self, f"b{res}")
            x, img = block(x, img, ws[:, start : start + block.num_conv + 1], noise_mode)
            start += block.num_conv
        return img


class OfficialStyle2Generator(nn.Module):
    """z (B, z_dim) [, labels (B,)] -> images (B, C, R, R), linear output."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 512,
        w_dim: int = 512,
        mapping_layers: int = 8,
        channel_base: int = 32768,
        channel_max: int = 512,
        mapping_lr_mul: float = 0.01,
        num_classes: int = 0,
        width: int = 512,
    ) -> None:
        super().__init__()
        self.levels = levels_for(info, "stylegan2")
        self.channels = channel_plan(self.levels, width, channel_base, channel_max)
        self.z_dim, self.w_dim, self.num_classes = z_dim, w_dim, num_classes
        self.synthesis = OfficialSynthesis(w_dim, self.channels, info.channels)
        self.num_ws = self.synthesis.num_ws
        self.mapping = LabelledMapping(z_dim, num_classes, w_dim, mapping_layers, mapping_lr_mul)

    def forward(self, z: Tensor, labels: Tensor | None = None, noise_mode: str = "const") -> Tensor:
        w = self.mapping(z, labels)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise_mode)


class DiscriminatorBlock(nn.Module):
    """(B, c, r, r) -> (B, c', r/2, r/2); the first block reads the image through fromRGB."""

    def __init__(
        self,
        in_channels: int,
        tmp_channels: int,
        out_channels: int,
        img_channels: int,
        architecture: str = "resnet",
    ) -> None:
        super().__init__()
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu")
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu")
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2)
        self.first, self.resnet = in_channels == 0, architecture == "resnet"
        if self.resnet:
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2)

    def forward(self, x: Tensor) -> Tensor:
        if self.first:
            x = self.fromrgb(x)
        if not self.resnet:
            return self.conv1(self.conv0(x))
        gain = math.sqrt(0.5)
        return self.skip(x, gain=gain) + self.conv1(self.conv0(x), gain=gain)


class DiscriminatorEpilogue(nn.Module):
    """(B, c, 4, 4) -> (B, 1), or (B, cmap_dim) projected on the label's map when conditional."""

    def __init__(
        self, in_channels: int, cmap_dim: int, mbstd_group: int, mbstd_channels: int
    ) -> None:
        super().__init__()
        self.mbstd = MinibatchStd(mbstd_group, mbstd_channels) if mbstd_channels else None
        self.conv = Conv2dLayer(in_channels + mbstd_channels, in_channels, 3, activation="lrelu")
        self.fc = FullyConnected(in_channels * 16, in_channels, "lrelu")
        self.out = FullyConnected(in_channels, cmap_dim or 1)
        self.cmap_dim = cmap_dim

    def forward(self, x: Tensor, cmap: Tensor | None = None) -> Tensor:
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.cmap_dim:
            x = (x * cmap).sum(1, keepdim=True) / math.sqrt(self.cmap_dim)
        return x


class OfficialStyle2Discriminator(nn.Module):
    """images (B, C, R, R) [, labels (B,)] -> logits (B,)."""

    def __init__(
        self,
        info: DataInfo,
        channel_base: int = 32768,
        channel_max: int = 512,
        architecture: str = "resnet",
        mbstd_group: int = 4,
        mbstd_channels: int = 1,
        num_classes: int = 0,
        mapping_layers: int = 8,
        width: int = 512,
    ) -> None:
        super().__init__()
        if architecture not in D_ARCHITECTURES:
            raise ConfigError(f"d_architecture={architecture!r}: use one of {D_ARCHITECTURES}")
        levels = levels_for(info, "stylegan2")
        ch = channel_plan(levels, width, channel_base, channel_max)
        self.resolutions = [4 * 2**lv for lv in range(levels - 1, 0, -1)]
        for lv in range(levels - 1, 0, -1):
            c_in = 0 if lv == levels - 1 else ch[lv]
            block = DiscriminatorBlock(c_in, ch[lv], ch[lv - 1], info.channels, architecture)
            setattr(self, f"b{4 * 2**lv}", block)
        self.num_classes = num_classes
        cmap_dim = ch[0] if num_classes else 0
        if num_classes:
            self.mapping = LabelledMapping(0, num_classes, cmap_dim, mapping_layers, beta=None)
        self.b4 = DiscriminatorEpilogue(ch[0], cmap_dim, mbstd_group, mbstd_channels)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        for res in self.resolutions:
            x = getattr(self, f"b{res}")(x)
        cmap = self.mapping(None, labels) if self.num_classes else None
        return self.b4(x, cmap).squeeze(1)
