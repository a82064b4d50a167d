"""Paired two-domain data: pix2pix's aligned A|B folders and four offline paired tasks.

Every paired dataset yields ``{"image": A, "image_b": B, "label"?, "mask"?}`` and a DataInfo with
``pairing="paired"``. ``shape`` and ``shape_b`` are the B (output) side, so a translator's
``generate(n)`` has the data's shape; the A (input) side is ``info.shape_a``
(``side_shapes(info)`` returns both). ``info.baseline`` names the task's trivial baseline
(``identity``, ``bicubic``, ``mean-fill``, ``gray``) that the translation checks must beat.
The digit tasks name the digit classifier as their extractor but no ``domain``: the domain's
periodic metrics read ``generate(n)``, which for a translator is a few kept inputs mapped, not
a sample of the target domain (``ganarium eval`` translates the held-out split instead).

- ``aligned``: ``root/{train,val,test}/*.png``, each file A | B side by side (Isola et al. 2017),
  resized to ``load_size``, cropped to ``crop_size`` (the same window for A and B) and flipped
  as in pix2pix (``data.transforms``); held-out splits are centre-cropped and never flipped.
  ``load_width`` / ``crop_width`` make the sizes non-square (height x width; pix2pixHD's
  Cityscapes at 1024 x 2048: files of 4096 x 1024 holding both sides).
- ``edges2digits``: Canny edges (``skimage.feature.canny``) of the shipped digits -> the digit.
- ``digits-sr``: the digit downsampled ``factor`` x (antialiased bicubic) -> the digit.
- ``digits-inpaint``: the digit with a square hole (filled with ``HOLE_FILL``) -> the whole
  digit; ``mask`` is 1 in the hole.
- ``gray2colour``: the L (lightness) channel of Lab -> the RGB patch, patches cut from the six
  natural photos shipped with scikit-image and scikit-learn (a seeded fifth of each photo's
  blocks is the held-out test split, so no test patch overlaps a training patch).

The digit tasks keep the source digit's ``label`` and use the digits' train / test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.nn import functional as F

from ganarium.data import (
    DATASETS,
    DataInfo,
    GanDataset,
    TensorDictDataset,
    resize_images,
    to_unit_range,
)
from ganarium.data.folder import IMAGE_SUFFIXES
from ganarium.data.transforms import (
    PairTransform,
    center_crop_origin,
    check_sizes,
    coin,
    crop,
    hflip,
    random_crop_origin,
    read_image_full,
    resize,
)
from ganarium.errors import DataError

HOLE_FILL = 0.0  # the value inside an inpainting hole (mid-gray: neither ink nor paper)
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "china", "flower")
Split = Literal["train", "test"]


def paired_info(
    name: str,
    shape_a: tuple[int, ...],
    shape_b: tuple[int, ...],
    baseline: str,
    num_classes: int = 0,
    extractor: str = "inception",
    domain: str = "",
) -> DataInfo:
    """The DataInfo of a paired dataset: ``shape`` / ``shape_b`` the B side, ``shape_a`` the A side."""
    return DataInfo(
        name=name,
        shape=tuple(shape_b),
        num_classes=num_classes,
        shape_a=tuple(shape_a),
        baseline=baseline,
        extractor=extractor,
        domain=domain,
        pairing="paired",
        shape_b=tuple(shape_b),
    )


def side_shapes(info: DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(A shape, B shape) of two-domain data; both ``info.shape`` for one-domain data."""
    shape_b = tuple(info.shape_b) if info.shape_b is not None else tuple(info.shape)
    return (tuple(info.shape_a) if info.shape_a is not None else shape_b), shape_b


def _split_of(split: str) -> str:
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}: use train or test")
    return split


def _check_size(name: str, size: int, low: int = 8) -> None:
    if not low <= size <= 256:
        raise DataError(f"{name} size={size} is out of range: use {low}..256 (e.g. 16 or 24)")


# -- the digit tasks ---------------------------------------------------------------------------


def digit_edges(images: Tensor, sigma: float = 1.0) -> Tensor:
    """Canny edge maps (``skimage.feature.canny``) of (N, 1, H, W) images in [-1, 1]:
    edges +1, elsewhere -1, same shape."""
    from skimage.feature import canny

    unit = ((images[:, 0].detach().cpu().numpy() + 1) / 2).astype(np.float64)
    edges = np.stack([canny(im, sigma=sigma) for im in unit])
    return torch.from_numpy(edges).float().mul(2).sub(1).unsqueeze(1)


def downsample(images: Tensor, factor: int) -> Tensor:
    """(N, C, H, W) -> (N, C, H / factor, W / factor), antialiased bicubic (the SR degradation)."""
    h, w = images.shape[-2:]
    return F.interpolate(
        images, size=(h // factor, w // factor), mode="bicubic", antialias=True
    ).clamp(-1, 1)


def hole_masks(n: int, size: int, hole: int, seed: int) -> Tensor:
    """(n, 1, size, size) masks, 1 inside one ``hole`` x ``hole`` square at a seeded random
    position (the context encoder's random-block holes), 0 elsewhere."""
    g = torch.Generator().manual_seed(seed)
    top = torch.randint(0, size - hole + 1, (n,), generator=g)
    left = torch.randint(0, size - hole + 1, (n,), generator=g)
    rows = torch.arange(size)
    inside_r = (rows[None] >= top[:, None]) & (rows[None] < top[:, None] + hole)
    inside_c = (rows[None] >= left[:, None]) & (rows[None] < left[:, None] + hole)
    return (inside_r[:, :, None] & inside_c[:, None, :]).float().unsqueeze(1)


def _digits(split: str, size: int) -> tuple[Tensor, Tensor]:
    from ganarium.data.digits import digits_arrays

    images, labels = digits_arrays(_split_of(split))
    x = resize_images(to_unit_range(torch.from_numpy(images)).unsqueeze(1), size)
    return x.contiguous(), torch.from_numpy(labels)


@DATASETS.register(
    "edges2digits",
    description="paired: Canny edge maps -> offline digits",
    splits=("train", "test"),
)
def edges2digits(split: Split = "train", size: int = 16, sigma: float = 1.0) -> TensorDictDataset:
    """A: the digit's Canny edges (1, size, size); B: the digit; label: the digit's class."""
    _check_size("edges2digits", size)
    b, y, edges = _edge_pairs(split, size, sigma)
    info = paired_info(
        "edges2digits",
        (1, size, size),
        (1, size, size),
        "identity",
        10,
        "digit-classifier",
    )
    return TensorDictDataset(
        {"image": edges.clone(), "image_b": b.clone(), "label": y.clone()}, info
    )


@lru_cache(maxsize=4)
def _edge_pairs(split: str, size: int, sigma: float) -> tuple[Tensor, Tensor, Tensor]:
    """(digits, labels, edges), cached: Canny on 4,000 digits takes seconds."""
    b, y = _digits(split, size)
    return b, y, digit_edges(b, sigma)


@DATASETS.register(
    "digits-sr", description="paired: digits downsampled 4x -> the digits", splits=("train", "test")
)
def digits_sr(split: Split = "train", size: int = 24, factor: int = 4) -> TensorDictDataset:
    """A: the digit at size / factor (antialiased bicubic); B: the digit at ``size``."""
    _check_size("digits-sr", size)
    if factor < 2 or size % factor:
        raise DataError(
            f"digits-sr factor={factor} must be >= 2 and divide size={size} (e.g. 24 and 4)"
        )
    b, y = _digits(split, size)
    lo = size // factor
    info = paired_info("digits-sr", (1, lo, lo), (1, size, size), "bicubic", 10, "digit-classifier")
    return TensorDictDataset({"image": downsample(b, factor), "image_b": b, "label": y}, info)


@DATASETS.register(
    "digits-inpaint",
    description="paired: digits with a square hole -> whole",
    splits=("train", "test"),
)
def digits_inpaint(
    split: Split = "train", size: int = 16, hole: float = 0.5, seed: int = 0
) -> TensorDictDataset:
    """A: the digit with a (hole * size)^2 square filled with HOLE_FILL at a seeded random place;
    B: the whole digit; mask: 1 inside the hole."""
    _check_size("digits-inpaint", size)
    side = int(round(hole * size))
    if not 1 <= side < size:
        raise DataError(f"digits-inpaint hole={hole} must leave a hole of 1..{size - 1} px")
    b, y = _digits(split, size)
    offset = {"train": 0, "test": 1}[split]
    mask = hole_masks(len(b), size, side, seed * 2 + offset)
    a = b * (1 - mask) + HOLE_FILL * mask
    info = paired_info(
        "digits-inpaint",
        (1, size, size),
        (1, size, size),
        "mean-fill",
        10,
        "digit-classifier",
    )
    return TensorDictDataset({"image": a, "image_b": b, "label": y, "mask": mask}, info)


# -- gray -> colour photo patches --------------------------------------------------------------


@lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    """The six natural RGB photos shipped with scikit-image and scikit-learn (uint8 HWC)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    sk = [getattr(skimage.data, n)() for n in PHOTOS[:4]]
    return tuple(sk + list(load_sample_images().images))


def photo_patches(split: str, size: int, scale: int, seed: int = 0) -> Tensor:
    """RGB patches (N, 3, size, size) in [-1, 1]: each photo resized so its shorter side is
    ``scale`` and cut into blocks of 2 size x 2 size; a seeded fifth of each photo's blocks is
    the test split, the rest train; each block gives 9 patches (stride size / 2), so no test
    patch shares a pixel with a training patch while both come from every photo."""
    out = []
    block = 2 * size
    g = torch.Generator().manual_seed(seed)
    for photo in _photos():
        x = to_unit_range(torch.from_numpy(np.array(photo)).permute(2, 0, 1)).unsqueeze(0)
        h, w = x.shape[-2:]
        hs, ws = (scale, round(w * scale / h)) if h <= w else (round(h * scale / w), scale)
        x = F.interpolate(x, size=(hs, ws), mode="bicubic", antialias=True).clamp(-1, 1)[0]
        blocks = x.unfold(1, block, block).unfold(2, block, block)  # C, nh, nw, 2s, 2s
        blocks = blocks.permute(1, 2, 0, 3, 4).reshape(-1, 3, block, block)
        order = torch.randperm(len(blocks), generator=g)
        n_test = max(1, len(blocks) // 5)
        chosen = blocks[order[:n_test] if split == "test" else order[n_test:]]
        tiles = chosen.unfold(2, size, size // 2).unfold(3, size, size // 2)  # N, C, 3, 3, s, s
        out.append(tiles.permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, size, size))
    return torch.cat(out).contiguous()


def rgb_to_lightness(rgb: Tensor) -> Tensor:
    """(N, 3, H, W) RGB in [-1, 1] -> the L channel of CIE Lab (skimage.color.rgb2lab), scaled
    from [0, 100] to [-1, 1], as (N, 1, H, W)."""
    from skimage.color import rgb2lab

    unit = ((rgb.permute(0, 2, 3, 1).numpy() + 1) / 2).clip(0, 1)
    lab = rgb2lab(unit, channel_axis=-1)
    return torch.from_numpy(lab[..., :1]).float().permute(0, 3, 1, 2).div(50).sub(1)


@DATASETS.register(
    "gray2colour",
    description="paired: Lab lightness -> RGB photo patches",
    splits=("train", "test"),
)
def gray2colour(
    split: Split = "train", size: int = 16, scale: int = 128, seed: int = 0
) -> TensorDictDataset:
    """A: the patch's Lab lightness (1, size, size) in [-1, 1]; B: the RGB patch (3, size, size)."""
    _check_size("gray2colour", size)
    if scale < 2 * size:
        raise DataError(f"gray2colour scale={scale} must be at least twice size={size}")
    b = photo_patches(_split_of(split), size, scale, seed)
    info = paired_info("gray2colour", (1, size, size), (3, size, size), "gray")
    return TensorDictDataset({"image": rgb_to_lightness(b), "image_b": b}, info)


# -- pix2pix's aligned folders ---------------------------------------------------------------


def _channels_of(mode: str) -> int:
    return 1 if mode in ("1", "L", "I", "I;16", "F") else 3


@dataclass(frozen=True)
class SizedPairTransform:
    """``PairTransform`` for (height, width) sizes: resize both sides to ``load_size``, crop the
    same ``crop_size`` window (random when ``train``, centred otherwise), flip both with
    probability 1/2 when ``flip`` and ``train``."""

    load_size: tuple[int, int]
    crop_size: tuple[int, int]
    flip: bool = True
    train: bool = True

    def __post_init__(self) -> None:
        for load, cut in zip(self.load_size, self.crop_size):
            check_sizes(load, cut)

    def __call__(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        if a.shape[-2:] != b.shape[-2:]:
            raise DataError(
                f"the two sides of a pair differ in size ({tuple(a.shape[-2:])} vs "
                f"{tuple(b.shape[-2:])}): aligned pairs must have the same height and width"
            )
        a, b = resize(a, self.load_size), resize(b, self.load_size)
        origin = random_crop_origin if self.train else center_crop_origin
        top, left = origin(*self.load_size, self.crop_size)
        a, b = crop(a, top, left, self.crop_size), crop(b, top, left, self.crop_size)
        if self.flip and self.train and coin():
            a, b = hflip(a), hflip(b)
        return a.contiguous(), b.contiguous()


class AlignedFolder(GanDataset):
    """pix2pix's aligned layout: ``root/<split>/*`` images, each A | B side by side (width twice
    the height, or any width with ``load_width``). ``direction='BtoA'`` swaps the sides. Every
    file's header is checked up front, so a bad file fails at construction, in one line."""

    def __init__(
        self,
        root: str,
        split: str = "train",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        channels: int | None = None,
        direction: str = "AtoB",
        load_width: int = 0,
        crop_width: int = 0,
    ) -> None:
        square = not load_width and not crop_width
        if direction not in ("AtoB", "BtoA"):
            raise DataError(f"data.direction={direction!r}: use AtoB or BtoA")
        if split not in ("train", "val", "test"):
            raise DataError(f"unknown split {split!r} for aligned folders: use train, val or test")
        folder = Path(root).expanduser() / split
        if not folder.is_dir():
            raise DataError(
                f"aligned data needs {folder}/ with A|B images: pass data.root=<folder holding "
                f"train/ val/ test/>"
            )
        self.files = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        if not self.files:
            raise DataError(f"aligned folder {folder} has no images: add A|B .png/.jpg files")
        modes = set()
        for p in self.files:
            with Image.open(p) as img:
                w, h = img.size
                modes.add(_channels_of(img.mode))
            if square and w != 2 * h:
                raise DataError(
                    f"aligned image {p} is {w}x{h}: an A|B pair must be twice as wide as high "
                    "(A on the left, B on the right)"
                )
        if channels is None:
            if len(modes) > 1:
                raise DataError(
                    f"aligned folder {folder} mixes gray and RGB images: set data.channels=1 "
                    "or data.channels=3 to convert them all"
                )
            channels = modes.pop()
        if channels not in (1, 3):
            raise DataError(f"data.channels={channels}: use 1 (gray) or 3 (RGB)")
        self.channels, self.swap = channels, direction == "BtoA"
        # held-out splits: the same resize and a centred crop, never flipped
        if square:
            self.transform = PairTransform(load_size, crop_size, flip, train=split == "train")
            shape = (channels, crop_size, crop_size)
        else:
            load_hw = (load_size, load_width or load_size)
            crop_hw = (crop_size, crop_width or crop_size)
            self.transform = SizedPairTransform(load_hw, crop_hw, flip, train=split == "train")
            shape = (channels, *crop_hw)
        self.info = paired_info(f"aligned:{Path(root).name}", shape, shape, "identity")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        x = read_image_full(self.files[i], self.channels)
        half = x.shape[-1] // 2
        a, b = x[..., :half], x[..., half : 2 * half]
        if self.swap:
            a, b = b, a
        a, b = self.transform(a, b)
        return {"image": a, "image_b": b}


@DATASETS.register(
    "aligned",
    description="pix2pix's aligned A|B folders: root/{train,val,test}/",
    splits=("train", "val", "test"),
)
def aligned(
    root: str = "",
    split: Literal["train", "val", "test"] = "train",
    load_size: int = 286,
    crop_size: int = 256,
    flip: bool = True,
    channels: int | None = None,
    direction: Literal["AtoB", "BtoA"] = "AtoB",
    load_width: int = 0,
    crop_width: int = 0,
) -> AlignedFolder:
    if not root:
        raise DataError("the aligned dataset needs a root: add data.root=<folder with train/>")
    return AlignedFolder(
        root, split, load_size, crop_size, flip, channels, direction, load_width, crop_width
    )
