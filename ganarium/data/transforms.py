"""Resize, random crop and flip for image pairs (and single images), as pix2pix / CycleGAN do.

Isola et al. (2017) and Zhu et al. (2017) train on images resized to ``load_size`` and randomly
cropped to ``crop_size``, with a random horizontal flip; for aligned pairs the same crop and flip
apply to both sides. Every random draw here goes through torch's global RNG, which
``BatchStream`` seeds per sample (``data.stream.sample_seed``), so crops and flips are the same
with any number of workers and after any resume. At evaluation (``train=False``) the crop is
centred and nothing is flipped, so held-out images are always the same.

The stable API (unpaired folders import it too):

- ``read_image_full(path, channels)`` -> (C, H, W) in [-1, 1], the file's own size;
- ``to_channels(x, channels)`` gray <-> RGB;
- ``resize(x, size)``, ``crop(x, top, left, size)``, ``hflip(x)``;
- ``random_crop_origin(height, width, size)``, ``coin(p)``: the random draws;
- ``check_sizes(load_size, crop_size)``: one-line ConfigError for bad sizes;
- ``PairTransform(load_size, crop_size, flip, train)(a, b)`` and
  ``ImageTransform(...)(x)``: the whole pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.nn import functional as F

from ganarium.errors import ConfigError, DataError

# ITU-R 601 luma weights: the gray value PIL's "L" conversion uses
LUMA = (0.299, 0.587, 0.114)


def read_image_full(path: str | Path, channels: int | None = None) -> Tensor:
    """One image file as a float (C, H, W) tensor in [-1, 1], at its own size.

    ``channels`` 1 or 3 converts it (gray / RGB); ``None`` keeps 1 for gray files and 3 for
    everything else (palette, RGBA and CMYK files become RGB).
    """
    from torchvision.transforms import functional as TF  # lazily: ~1 s per command

    try:
        with Image.open(path) as img:
            if channels is None:
                channels = 1 if img.mode in ("L", "1", "I", "I;16", "F") else 3
            img = img.convert("L" if channels == 1 else "RGB")
            x = TF.pil_to_tensor(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"corrupt image file {path}: {e}. Remove or replace it.") from None
    return x.float().div(127.5).sub(1.0)


def to_channels(x: Tensor, channels: int) -> Tensor:
    """(..., C, H, W) with C in {1, 3} -> ``channels`` channels: gray is repeated to RGB, RGB is
    reduced to luma (ITU-R 601). Other channel counts raise DataError."""
    c = x.shape[-3]
    if c == channels:
        return x
    if c == 1 and channels == 3:
        return x.expand(*x.shape[:-3], 3, *x.shape[-2:]).clone()
    if c == 3 and channels == 1:
        w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(3, 1, 1)
        return (x * w).sum(dim=-3, keepdim=True)
    raise DataError(f"cannot convert {c}-channel images to {channels} channels: use gray or RGB")


def _size2(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def resize(x: Tensor, size: int | tuple[int, int]) -> Tensor:
    """(C, H, W) or (N, C, H, W) -> spatial ``size`` (int: square; (h, w)), bicubic with
    antialiasing as pix2pix's PIL resize, clamped to [-1, 1]. No-op at that size already."""
    h, w = _size2(size)
    if x.shape[-2:] == (h, w):
        return x
    batched = x.dim() == 4
    y = F.interpolate(
        x if batched else x.unsqueeze(0),
        size=(h, w),
        mode="bicubic",
        antialias=True,
        align_corners=False,
    ).clamp(-1, 1)
    return y if batched else y.squeeze(0)


def crop(x: Tensor, top: int, left: int, size: int | tuple[int, int]) -> Tensor:
    """The (h, w) window at (top, left) of (..., H, W)."""
    h, w = _size2(size)
    return x[..., top : top + h, left : left + w]


def hflip(x: Tensor) -> Tensor:
    """Mirror (..., H, W) left to right."""
    return x.flip(-1)


def random_crop_origin(height: int, width: int, size: int | tuple[int, int]) -> tuple[int, int]:
    """A uniformly random (top, left) of a ``size`` window inside (height, width), drawn from
    torch's global RNG (seeded per sample by BatchStream)."""
    h, w = _size2(size)
    if h > height or w > width:
        raise DataError(f"crop {h}x{w} is larger than the image {height}x{width}")
    top = int(torch.randint(0, height - h + 1, (1,)))
    left = int(torch.randint(0, width - w + 1, (1,)))
    return top, left


def center_crop_origin(height: int, width: int, size: int | tuple[int, int]) -> tuple[int, int]:
    """The (top, left) of a centred ``size`` window inside (height, width)."""
    h, w = _size2(size)
    return (height - h) // 2, (width - w) // 2


def coin(p: float = 0.5) -> bool:
    """True with probability ``p``, drawn from torch's global RNG."""
    return bool(torch.rand(()) < p)


def check_sizes(load_size: int, crop_size: int) -> None:
    """Raise one ConfigError line unless 1 <= crop_size <= load_size."""
    if crop_size < 1 or load_size < 1:
        raise ConfigError(
            f"data.load_size={load_size} and data.crop_size={crop_size} must be positive"
        )
    if crop_size > load_size:
        raise ConfigError(
            f"data.crop_size={crop_size} is larger than data.load_size={load_size}: the crop is "
            "taken from the resized image, so set crop_size <= load_size (pix2pix: 256 of 286)"
        )


@dataclass(frozen=True)
class PairTransform:
    """pix2pix's preprocessing for an aligned pair: resize both sides to ``load_size``, crop the
    same ``crop_size`` window from both (random when ``train``, centred otherwise) and, when
    ``flip`` and ``train``, mirror both with probability 1/2.

    ``(a, b)`` are (C, H, W) tensors of the same H, W (channel counts may differ).
    """

    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    train: bool = True

    def __post_init__(self) -> None:
        check_sizes(self.load_size, self.crop_size)

    def __call__(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        if a.shape[-2:] != b.shape[-2:]:
            raise DataError(
                f"the two sides of a pair differ in size ({tuple(a.shape[-2:])} vs "
                f"{tuple(b.shape[-2:])}): aligned pairs must have the same height and width"
            )
        a, b = resize(a, self.load_size), resize(b, self.load_size)
        origin = random_crop_origin if self.train else center_crop_origin
        top, left = origin(self.load_size, self.load_size, self.crop_size)
        a, b = crop(a, top, left, self.crop_size), crop(b, top, left, self.crop_size)
        if self.flip and self.train and coin():
            a, b = hflip(a), hflip(b)
        return a.contiguous(), b.contiguous()


@dataclass(frozen=True)
class ImageTransform:
    """The same pipeline for one image (CycleGAN's unpaired sides): resize to ``load_size``,
    crop ``crop_size`` (random when ``train``, centred otherwise), flip with probability 1/2
    when ``flip`` and ``train``."""

    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    train: bool = True

    def __post_init__(self) -> None:
        check_sizes(self.load_size, self.crop_size)

    def __call__(self, x: Tensor) -> Tensor:
        x = resize(x, self.load_size)
        origin = random_crop_origin if self.train else center_crop_origin
        top, left = origin(self.load_size, self.load_size, self.crop_size)
        x = crop(x, top, left, self.crop_size)
        if self.flip and self.train and coin():
            x = hflip(x)
        return x.contiguous()
