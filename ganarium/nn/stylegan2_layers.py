"""StyleGAN2's layers at the authors' parameter layout (Karras et al. 2020, "Analyzing and
Improving the Image Quality of StyleGAN", Sec. 2.2 and App. B; the layout of the authors'
stylegan2-ada code), so a net built from them has the official parameter shapes:

- ``FullyConnected``: equalized-lr dense layer, the activation gain applied after the
  activation (leaky ReLU(0.2) times sqrt(2)), ``lr_mul`` scaling weight and bias;
- ``Conv2dLayer``: equalized-lr convolution; ``down=2`` low-passes with the [1, 3, 3, 1] filter
  and then strides (a 3x3 kernel: filter padded by 2, stride-2 convolution; a 1x1 kernel: the
  filter's downsampling, then the 1x1 convolution), always before the activation;
- ``SynthesisLayer``: modulated / demodulated convolution (Eq. 1-3), a scalar noise strength
  per layer, bias and leaky ReLU; ``up=True`` is a stride-2 transposed convolution followed by
  the filter (gain 4);
- ``ToRGB``: a modulated 1x1 convolution without demodulation, plus a bias;
- ``MinibatchStd``: the standard deviation over groups of ``group_size`` samples, averaged over
  ``num_channels`` channel groups and the pixels, appended as channels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.nn.filters import downsample2d, fir_kernel

SQRT2 = math.sqrt(2.0)


def fir_filter(x: Tensor, kernel: Tensor, pad: int, gain: float = 1.0) -> Tensor:
    """Filter each channel of x (B, C, H, W) with ``kernel`` after zero-padding ``pad`` pixels on
    every side; the output grows by 2 * pad + 1 - K pixels."""
    c = x.shape[1]
    weight = (kernel * gain).to(x.dtype).expand(c, 1, *kernel.shape)
    return F.conv2d(F.pad(x, (pad, pad, pad, pad)), weight, groups=c)


def bias_act(x: Tensor, bias: Tensor | None, activation: str, gain: float = 1.0) -> Tensor:
    """x + bias (per channel, dim 1), then leaky ReLU(0.2) times sqrt(2) ('lrelu') or nothing
    ('linear'), times ``gain``."""
    if bias is not None:
        x = x + bias.to(x.dtype).view(1, -1, *([1] * (x.ndim - 2)))
    if activation == "lrelu":
        return F.leaky_relu(x, 0.2) * (SQRT2 * gain)
    return x * gain if gain != 1.0 else x


class FullyConnected(nn.Module):
    """x (B, in) -> (B, out): weight N(0, 1) / lr_mul scaled by lr_mul / sqrt(in), bias
    ``bias_init`` scaled by lr_mul, then the activation."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str = "linear",
        lr_mul: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.activation, self.lr_mul = activation, lr_mul
        self.weight_gain = lr_mul / math.sqrt(in_features)

    def forward(self, x: Tensor) -> Tensor:
        x = F.linear(x, self.weight.to(x.dtype) * self.weight_gain)
        return bias_act(x, self.bias * self.lr_mul, self.activation)


class Conv2dLayer(nn.Module):
    """x (B, in, H, W) -> (B, out, H / down, W / down) ('same' padding), equalized lr."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        bias: bool = True,
        activation: str = "linear",
        down: int = 1,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.register_buffer("kernel", fir_kernel(), persistent=False)
        self.activation, self.down, self.kernel_size = activation, down, kernel
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel * kernel)

    def forward(self, x: Tensor, gain: float = 1.0) -> Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        if self.down == 1:
            x = F.conv2d(x, w, padding=self.kernel_size // 2)
        elif self.kernel_size == 1:
            x = F.conv2d(downsample2d(x, self.kernel), w)
        else:  # low-pass, then the stride-2 convolution: the filter comes before the activation
            x = F.conv2d(fir_filter(x, self.kernel, 2), w, stride=2)
        return bias_act(x, self.bias, self.activation, gain)


def modulated_conv(
    x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool, up: bool, kernel: Tensor
) -> Tensor:
    """x (B, in, H, W) scaled by styles (B, in) per input channel, convolved with the shared
    ``weight`` (out, in, k, k), then scaled per output channel by the demodulation coefficients
    1 / sqrt(sum_{in,k,k} (s w)^2 + 1e-8) (the same as demodulating each sample's kernel)."""
    b = x.shape[0]
    x = x * styles.to(x.dtype)[:, :, None, None]
    w = weight.to(x.dtype)
    if up:
        x = F.conv_transpose2d(x, w.transpose(0, 1), stride=2)
        x = fir_filter(x, kernel, 1, gain=4.0)
    else:
        x = F.conv2d(x, w, padding=weight.shape[-1] // 2)
    if demodulate:
        coefs = (weight[None] * styles[:, None, :, None, None]).square().sum((2, 3, 4)) + 1e-8
        x = x * coefs.rsqrt().to(x.dtype).view(b, -1, 1, 1)
    return x


class SynthesisLayer(nn.Module):
    """x (B, in, r', r'), w (B, w_dim) -> (B, out, r, r), r = 2 r' when ``up``."""

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False
    ) -> None:
        super().__init__()
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("kernel", fir_kernel(), persistent=False)
        self.up, self.resolution = up, resolution

    def forward(self, x: Tensor, w: Tensor, noise_mode: str = "random") -> Tensor:
        x = modulated_conv(x, self.weight, self.affine(w), True, self.up, self.kernel)
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device)
            x = x + (noise * self.noise_strength).to(x.dtype)
        elif noise_mode == "const":
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        return bias_act(x, self.bias, "lrelu")


class ToRGB(nn.Module):
    """x (B, in, r, r), w (B, w_dim) -> (B, out, r, r): modulated 1x1 conv, no demodulation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int) -> None:
        super().__init__()
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w) * self.weight_gain
        return bias_act(modulated_conv(x, self.weight, styles, False, False, None), self.bias, "")


class MinibatchStd(nn.Module):
    """x (B, C, H, W) -> (B, C + num_channels, H, W). Sample i is in group i % (B / G), G =
    min(group_size, B); each group's per-feature standard deviation is averaged over each of
    ``num_channels`` channel groups and the pixels."""

    def __init__(self, group_size: int, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size else n
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(0)).square().mean(0)
        y = (y + 1e-8).sqrt().mean((2, 3, 4))  # (n / g, f)
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], 1)
