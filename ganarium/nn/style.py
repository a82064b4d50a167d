"""Building blocks of the progressive and style-based generators (Karras et al. 2018, 2019, 2020):

- equalized learning rate (ProGAN Sec. 4.1): weights drawn N(0, 1) and scaled at run time by
  the He constant gain / sqrt(fan_in), so every layer learns at the same speed under Adam;
  ``lr_mul`` slows a layer down (the mapping network's 0.01, StyleGAN App. C);
- pixel norm (ProGAN Sec. 4.2): each pixel's feature vector scaled to unit mean square;
- the mapping network z -> w (StyleGAN Sec. 2) with the running mean of w that the truncation
  trick in W pulls towards, w' = w_avg + psi (w - w_avg) (StyleGAN App. B);
- AdaIN (StyleGAN Eq. 1): instance-normalised features times a style scale plus a style bias;
- per-layer noise inputs with learned per-channel strengths (StyleGAN Sec. 3.2);
- the learned constant input (StyleGAN Sec. 2);
- modulated / demodulated convolution (StyleGAN2 Eq. 1-3): w'_ijk = s_i w_ijk, then
  w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps), one kernel per sample by grouped convolution;
- the skip-connection generator's output sum and the residual discriminator block (StyleGAN2
  Fig. 7): rgb = upsample(rgb_coarse) + toRGB(h); out = (main(x) + skip(x)) / sqrt(2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.nn.filters import Downsample, Upsample

LRELU_GAIN = math.sqrt(2.0)  # He gain for leaky ReLU(0.2), as the papers use


class EqualizedLinear(nn.Module):
    """x (B, in) -> (B, out); weight N(0, 1) / lr_mul, scaled by gain / sqrt(in) * lr_mul."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        gain: float = 1.0,
        lr_mul: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_mul))
        self.scale, self.lr_mul = gain / math.sqrt(in_features) * lr_mul, lr_mul

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualizedConv2d(nn.Module):
    """x (B, in, H, W) -> (B, out, H, W) ('same' padding); the equalized-lr convolution."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int = 3, gain: float = 1.0, bias=True
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale, self.padding = gain / math.sqrt(in_channels * kernel * kernel), kernel // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


def pixel_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    """x / sqrt(mean over channels of x^2 + eps), for (B, C) or (B, C, H, W)."""
    return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + eps)


class PixelNorm(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return pixel_norm(x)


def lrelu_block(in_features: int, out_features: int, lr_mul: float = 1.0) -> nn.Sequential:
    return nn.Sequential(
        EqualizedLinear(in_features, out_features, LRELU_GAIN, lr_mul), nn.LeakyReLU(0.2)
    )


class MappingNetwork(nn.Module):
    """z (B, z_dim) -> w (B, w_dim): pixel norm, then ``layers`` equalized FC + leaky ReLU at
    ``lr_mul``. Keeps ``w_avg``, the running mean of w seen in training (``track``), which the
    truncation trick pulls towards."""

    def __init__(
        self, z_dim: int, w_dim: int, layers: int = 8, lr_mul: float = 0.01, beta: float = 0.995
    ) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(*(lrelu_block(a, b, lr_mul) for a, b in zip(dims, dims[1:])))
        self.z_dim, self.w_dim, self.beta = z_dim, w_dim, beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: Tensor, track: bool = False) -> Tensor:
        w = self.net(pixel_norm(z))
        if track:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().float().mean(0), 1.0 - self.beta)
        return w

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """w_avg + psi (w - w_avg): psi 1 leaves w, psi 0 gives the average."""
        return self.w_avg.to(w.dtype) + psi * (w - self.w_avg.to(w.dtype))


class AdaIN(nn.Module):
    """AdaIN(x, w) = y_s * (x - mu(x)) / sigma(x) + y_b with (y_s, y_b) an affine map of w
    (y_s initialised around 1). x (B, C, H, W), w (B, w_dim)."""

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.scale = EqualizedLinear(w_dim, channels, bias_init=1.0)
        self.shift = EqualizedLinear(w_dim, channels)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        x = F.instance_norm(x, eps=1e-8)
        return self.scale(w)[:, :, None, None] * x + self.shift(w)[:, :, None, None]


class NoiseInput(nn.Module):
    """x + strength_c * n with n ~ N(0, 1) one value per pixel, shared by the channels; the
    per-channel strengths start at 0. ``noise`` (B, 1, H, W) fixes n."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor, noise: Tensor | None = None) -> Tensor:
        if noise is None:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        return x + self.strength.to(x.dtype)[None, :, None, None] * noise


class ConstantInput(nn.Module):
    """The synthesis network's learned start: (C, size, size), the same for every sample."""

    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> Tensor:
        return self.value.expand(batch, -1, -1, -1)


class ModulatedConv2d(nn.Module):
    """x (B, in, H, W), w (B, w_dim) -> (B, out, H', W') with H' = 2H when ``up``.

    The style s = A(w) (B, in), initialised around 1, scales the kernel's input channels; with
    ``demodulate`` each sample's kernel is rescaled to unit L2 norm per output channel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        w_dim: int,
        demodulate: bool = True,
        up: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.scale = 1.0 / math.sqrt(in_channels * kernel * kernel)
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)
        self.demodulate, self.padding = demodulate, kernel // 2
        self.up = Upsample() if up else None

    def modulated_weight(self, style: Tensor) -> Tensor:
        """(B, in) styles -> (B, out, in, k, k) kernels (demodulated when configured)."""
        w = self.weight[None] * self.scale * style[:, None, :, None, None]
        if self.demodulate:
            w = w * torch.rsqrt(w.pow(2).sum((2, 3, 4), keepdim=True) + 1e-8)
        return w

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        if self.up is not None:
            x = self.up(x)
        b, c, h, wd = x.shape
        weight = self.modulated_weight(self.affine(w)).to(x.dtype)
        out = F.conv2d(
            x.reshape(1, b * c, h, wd),
            weight.reshape(b * weight.shape[1], c, *weight.shape[3:]),
            padding=self.padding,
            groups=b,
        )
        return out.view(b, -1, h, wd)


def skip_output(rgb_coarse: Tensor | None, rgb: Tensor, upsample: nn.Module) -> Tensor:
    """The skip generator's running image: upsample(coarser image) + this resolution's toRGB."""
    return rgb if rgb_coarse is None else upsample(rgb_coarse) + rgb


class ResidualDownBlock(nn.Module):
    """The residual discriminator block: (B, in, H, W) -> (B, out, H/2, W/2),
    (conv3-lrelu-conv3-lrelu-down (x) + 1x1(down(x))) / sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            EqualizedConv2d(in_channels, in_channels, 3, LRELU_GAIN),
            nn.LeakyReLU(0.2),
            EqualizedConv2d(in_channels, out_channels, 3, LRELU_GAIN),
            nn.LeakyReLU(0.2),
            Downsample(),
        )
        self.skip = nn.Sequential(
            Downsample(), EqualizedConv2d(in_channels, out_channels, 1, bias=False)
        )

    def forward(self, x: Tensor) -> Tensor:
        return (self.main(x) + self.skip(x)) / math.sqrt(2.0)
