"""sRGB <-> CIE Lab (D65) in torch, matching ``skimage.color.rgb2lab`` / ``lab2rgb``.

Colorization works in Lab (Zhang et al. 2016, "Colorful Image Colorization"; pix2pix's
colorization model): the net sees the lightness L and predicts the two colour channels ab.
Scaled for nets: L in [0, 100] -> [-1, 1] (L / 50 - 1), ab / 110 (about [-1, 1]).
"""

from __future__ import annotations

import torch
from torch import Tensor

# sRGB (linear) -> XYZ, D65 white, as skimage
_RGB2XYZ = torch.tensor(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])
AB_SCALE = 110.0
_EPS = 6.0 / 29.0


def _mix(m: Tensor, x: Tensor) -> Tensor:
    """Apply a 3x3 matrix to the channel axis of (N, 3, H, W)."""
    return torch.einsum("ij,njhw->nihw", m.to(x), x)


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """(N, 3, H, W) sRGB in [-1, 1] -> Lab with L in [0, 100] and a, b about [-110, 110]."""
    c = ((rgb + 1) / 2).clamp(0, 1)
    lin = torch.where(c > 0.04045, ((c + 0.055) / 1.055).pow(2.4), c / 12.92)
    xyz = _mix(_RGB2XYZ, lin) / _WHITE.to(rgb).view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS**3, xyz.clamp_min(1e-12).pow(1 / 3), xyz / (3 * _EPS**2) + 4 / 29)
    L = 116 * f[:, 1:2] - 16
    a = 500 * (f[:, 0:1] - f[:, 1:2])
    b = 200 * (f[:, 1:2] - f[:, 2:3])
    return torch.cat([L, a, b], 1)


def lab_to_rgb(lab: Tensor) -> Tensor:
    """Lab (N, 3, H, W) -> sRGB in [-1, 1] (out-of-gamut colours clipped)."""
    L, a, b = lab[:, 0:1], lab[:, 1:2], lab[:, 2:3]
    fy = (L + 16) / 116
    f = torch.cat([fy + a / 500, fy, fy - b / 200], 1)
    xyz = torch.where(f > _EPS, f.pow(3), 3 * _EPS**2 * (f - 4 / 29))
    xyz = xyz * _WHITE.to(lab).view(1, 3, 1, 1)
    lin = _mix(torch.linalg.inv(_RGB2XYZ), xyz).clamp(0, 1)
    c = torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(1e-12).pow(1 / 2.4) - 0.055, lin * 12.92)
    return c.clamp(0, 1) * 2 - 1


def lightness(lab: Tensor) -> Tensor:
    """Lab's L scaled to [-1, 1], (N, 1, H, W)."""
    return lab[:, :1] / 50 - 1


def net_lab(rgb: Tensor) -> tuple[Tensor, Tensor]:
    """sRGB in [-1, 1] -> (L in [-1, 1] (N, 1, H, W), ab / 110 (N, 2, H, W)): what nets see."""
    lab = rgb_to_lab(rgb)
    return lightness(lab), lab[:, 1:] / AB_SCALE


def net_lab_to_rgb(light: Tensor, ab: Tensor) -> Tensor:
    """(L in [-1, 1], ab / 110) -> sRGB in [-1, 1]."""
    return lab_to_rgb(torch.cat([(light + 1) * 50, ab * AB_SCALE], 1))
