"""Unpaired two-domain data: CycleGAN's folder layout and the offline unpaired digit tasks.

Every batch is ``{"image": A, "image_b": B}`` with A and B drawn independently (CycleGAN's
"unaligned" mode: the i-th A with a B drawn uniformly at random, through torch's RNG, which
``BatchStream`` seeds per sample, so the draws are exact on resume), plus ``label`` (A's digit)
and ``label_b`` (B's digit) for the offline tasks, so checks can tell whether translation kept
the content. ``DataInfo.pairing`` is ``unpaired``; as for paired data (``data.paired``),
``shape`` and ``shape_b`` are the B side and ``shape_a`` the A side
(``data.paired.side_shapes``), so a translator's ``generate(n)`` (A -> B) has the data's shape.

- ``unpaired-folder``: ``root/trainA, trainB, testA, testB`` (Zhu et al. 2017's layout), each
  image resized to ``load_size``, cropped to ``crop_size`` (random when training, centred
  otherwise) and flipped with probability 1/2 when training and ``flip``
  (``ganarium.data.transforms``). ``data.channels`` (1 or 3) converts both sides; unset, each
  side's first image decides, and sides that differ are refused (set it to convert them).
- ``digits-textured``: digits (A, white on black, as RGB) <-> the same kind of digits blended
  over crops of the photos shipped with scikit-image and scikit-learn as MNIST-M is made
  (Ganin et al. 2016, Sec. 5.1: |photo - digit| per channel).
- ``digits-thick``: digits (A) <-> digits with strokes thickened by a morphological dilation.

The offline tasks draw A and B from disjoint halves of each split of the shipped digits, so no
B image is the translation of an A image; ``paired=True`` instead pairs each A digit with its
own B rendering (``pairing="paired"``), for recipes whose losses compare corresponding images.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.data import DATASETS, DataInfo, GanDataset, resize_images, to_unit_range
from ganarium.data.digits import digits_arrays
from ganarium.data.folder import IMAGE_SUFFIXES, list_images
from ganarium.data.transforms import ImageTransform, read_image_full, to_channels
from ganarium.errors import DataError

SIDES = ("A", "B")


class UnpairedTensors(GanDataset):
    """Two in-memory domains ``a`` (N_A, C, H, W) and ``b`` (N_B, C', H', W') with optional
    labels; item i is A[i mod N_A] with a uniformly drawn B when ``train`` (held-out splits:
    B[i mod N_B], always the same; ``paired``: B[i], same length). ``extra_a`` / ``extra_b``
    are further per-image tensors of each side served under their keys (instance masks).

    It is not ``in_memory()``, so BatchStream reads it item by item under per-sample seeds."""

    def __init__(
        self,
        a: Tensor,
        b: Tensor,
        info: DataInfo,
        label_a: Tensor | None = None,
        label_b: Tensor | None = None,
        train: bool = True,
        extra_a: dict[str, Tensor] | None = None,
        extra_b: dict[str, Tensor] | None = None,
    ) -> None:
        if len(a) == 0 or len(b) == 0:
            raise DataError(f"dataset {info.name!r} has an empty side (A: {len(a)}, B: {len(b)})")
        if info.pairing == "paired" and len(a) != len(b):
            raise ValueError("paired sides must have the same length")
        self.a, self.b, self.label_a, self.label_b, self.info = a, b, label_a, label_b, info
        self.train = train
        self.extra_a, self.extra_b = dict(extra_a or {}), dict(extra_b or {})

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def side(self, name: str) -> tuple[Tensor, Tensor | None]:
        """All images of side ``A`` or ``B`` with their labels (None when unlabelled)."""
        return (self.a, self.label_a) if name == "A" else (self.b, self.label_b)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        ia = i % len(self.a)
        if self.info.pairing == "paired":
            ib = ia
        else:
            ib = int(torch.randint(0, len(self.b), ())) if self.train else i % len(self.b)
        item = {"image": self.a[ia], "image_b": self.b[ib]}
        if self.label_a is not None:
            item["label"] = self.label_a[ia]
        if self.label_b is not None:
            item["label_b"] = self.label_b[ib]
        item.update({k: v[ia] for k, v in self.extra_a.items()})
        item.update({k: v[ib] for k, v in self.extra_b.items()})
        return item


# -- CycleGAN's folders -------------------------------------------------------------------------
def _side_files(root: Path, folder: str) -> list[Path] | None:
    path = root / folder
    if not path.is_dir():
        return None
    files = list_images(path)
    if not files:
        raise DataError(
            f"{path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}): put the "
            f"{folder[-1]} images of that split there, or remove the empty folder"
        )
    return files


class UnpairedFolder(GanDataset):
    """``root/{split}A`` and ``root/{split}B``: the i-th A image with a random B image (the
    test split pairs the i-th of each, cycling the shorter side, so it is always the same)."""

    def __init__(
        self,
        root: str,
        split: str = "train",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        channels: int | None = None,
    ) -> None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise DataError(
                f"data folder {path} does not exist: pass data.root=<folder with trainA/ trainB/ testA/ testB/>"
            )
        if split not in ("train", "test"):
            raise DataError(f"unknown split {split!r} for unpaired-folder: use train or test")
        found = {
            f"{s}{side}": _side_files(path, f"{s}{side}")
            for s in ("train", "test")
            for side in SIDES
        }
        for side in SIDES:
            if found[f"{split}{side}"] is None:
                raise DataError(
                    f"{path / (split + side)} is missing: CycleGAN's layout is trainA/ trainB/ testA/ testB/"
                )
        if (found["testA"] is None) != (found["testB"] is None):
            have = "testA" if found["testA"] is not None else "testB"
            raise DataError(
                f"{path} has {have}/ but not its partner: add both testA/ and testB/, or neither"
            )
        self.files = {side: found[f"{split}{side}"] for side in SIDES}
        if channels is None:
            sides = {side: read_image_full(self.files[side][0]).shape[0] for side in SIDES}
            if sides["A"] != sides["B"]:
                raise DataError(
                    f"{split}A holds {sides['A']}-channel images but {split}B {sides['B']}-channel "
                    "ones: set data.channels=3 (or 1) to convert both sides"
                )
            channels = sides["A"]
        if channels not in (1, 3):
            raise DataError(f"data.channels={channels}: use 1 (gray) or 3 (RGB)")
        self.channels, self.train = channels, split == "train"
        self.transform = ImageTransform(load_size, crop_size, flip, train=self.train)
        shape = (channels, crop_size, crop_size)
        self.info = DataInfo(
            name=f"unpaired-folder:{path.name}",
            shape=shape,
            shape_b=shape,
            pairing="unpaired",
            shape_a=shape,
        )

    def __len__(self) -> int:
        return max(len(self.files["A"]), len(self.files["B"]))

    def _read(self, side: str, i: int) -> Tensor:
        x = read_image_full(self.files[side][i], self.channels)
        return self.transform(to_channels(x, self.channels))

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        a = self._read("A", i % len(self.files["A"]))
        n_b = len(self.files["B"])
        ib = int(torch.randint(0, n_b, ())) if self.train else i % n_b
        return {"image": a, "image_b": self._read("B", ib)}


@DATASETS.register(
    "unpaired-folder",
    description="CycleGAN's trainA/ trainB/ testA/ testB/ folders (unpaired)",
    splits=("train", "test"),
)
def unpaired_folder(
    root: str = "",
    split: Literal["train", "test"] = "train",
    load_size: int = 286,
    crop_size: int = 256,
    flip: bool = True,
    channels: int | None = None,
) -> UnpairedFolder:
    if not root:
        raise DataError(
            "unpaired-folder needs a root: add data.root=<folder with trainA/ trainB/ testA/ testB/>"
        )
    return UnpairedFolder(root, split, load_size, crop_size, flip, channels)


# -- offline digit tasks --------------------------------------------------------------------------
def _halves(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified, seeded split of indices into two disjoint halves (A's and B's digits)."""
    rng = np.random.default_rng(seed)
    first, second = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        first.append(idx[: len(idx) // 2])
        second.append(idx[len(idx) // 2 :])
    return np.sort(np.concatenate(first)), np.sort(np.concatenate(second))


@lru_cache(maxsize=1)
def _photos() -> tuple[Tensor, ...]:
    """The shipped RGB photos as (3, H, W) in [0, 1], downscaled 4x so that a digit-sized crop
    holds texture rather than one flat patch."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    arrays = [getattr(skimage.data, n)() for n in ("astronaut", "coffee", "chelsea", "rocket")]
    arrays += list(load_sample_images().images)
    out = []
    for arr in arrays:
        x = torch.from_numpy(np.array(arr)).permute(2, 0, 1).float().div(255)
        h, w = x.shape[-2:]
        out.append(F.interpolate(x[None], size=(h // 4, w // 4), mode="area")[0])
    return tuple(out)


def photo_crops(n: int, size: int, generator: torch.Generator) -> Tensor:
    """``n`` random (3, size, size) crops in [0, 1] of the shipped photos."""
    photos = _photos()
    which = torch.randint(0, len(photos), (n,), generator=generator)
    out = torch.empty(n, 3, size, size)
    for i, p in enumerate(which.tolist()):
        img = photos[p]
        top = int(torch.randint(0, img.shape[1] - size + 1, (), generator=generator))
        left = int(torch.randint(0, img.shape[2] - size + 1, (), generator=generator))
        out[i] = img[:, top : top + size, left : left + size]
    return out


def textured(digits01: Tensor, generator: torch.Generator) -> Tensor:
    """MNIST-M's blend: |photo crop - digit| per channel, (N, 1, S, S) in [0, 1] -> (N, 3, S, S)."""
    crops = photo_crops(len(digits01), digits01.shape[-1], generator)
    return (crops - digits01).abs()


def thickened(digits01: Tensor, pixels: int = 1) -> Tensor:
    """Strokes dilated by ``pixels`` on each side (a (2p+1)^2 max filter), (N, 1, S, S)."""
    k = 2 * pixels + 1
    return F.max_pool2d(digits01, k, stride=1, padding=pixels)


def _digit_sides(split: str, size: int, paired: bool, seed: int):
    """(A digits, A labels, B digits, B labels) in [0, 1] at ``size``, B taken at 28 px (so
    renderings are made at full resolution) and resized by the caller."""
    images, labels = digits_arrays(split)
    x28 = to_unit_range(torch.from_numpy(images)).unsqueeze(1).add(1).div(2)
    y = torch.from_numpy(labels)
    if paired:
        return x28, y, x28, y
    ia, ib = _halves(labels, seed)
    return x28[ia], y[ia], x28[ib], y[ib]


def _unit_to_range(x01: Tensor, size: int) -> Tensor:
    return resize_images(x01.mul(2).sub(1), size).contiguous()


@DATASETS.register(
    "digits-textured",
    description="digits <-> digits blended over photo crops (MNIST-M-like), unpaired, labelled",
    splits=("train", "test"),
)
def digits_textured(
    split: Literal["train", "test"] = "train", size: int = 16, paired: bool = False, seed: int = 0
) -> UnpairedTensors:
    """A: the shipped digits (white on black, 3 equal channels); B: other digits of the same
    split blended over random 4x-downscaled photo crops. Both (3, size, size), labels kept."""
    _check_size(size)
    a01, ya, b01, yb = _digit_sides(split, 28, paired, seed)
    g = torch.Generator().manual_seed(seed * 1000 + (split == "test"))
    b = _unit_to_range(textured(b01, g), size)
    a = _unit_to_range(a01, size).expand(-1, 3, -1, -1).contiguous()
    info = _info("digits-textured", a, b, paired, "digit-classifier-x3")
    return UnpairedTensors(a, b, info, ya, yb, train=split == "train")


@DATASETS.register(
    "digits-thick",
    description="digits <-> thick-stroke digits, unpaired, labelled",
    splits=("train", "test"),
)
def digits_thick(
    split: Literal["train", "test"] = "train",
    size: int = 16,
    paired: bool = False,
    dilation: int = 1,
    seed: int = 0,
) -> UnpairedTensors:
    """A: the shipped digits; B: other digits of the same split with strokes dilated by
    ``dilation`` pixels at 28 px. Both (1, size, size), labels kept."""
    _check_size(size)
    if not 1 <= dilation <= 4:
        raise DataError(f"digits-thick dilation={dilation}: use 1..4 pixels")
    a01, ya, b01, yb = _digit_sides(split, 28, paired, seed)
    a, b = _unit_to_range(a01, size), _unit_to_range(thickened(b01, dilation), size)
    info = _info("digits-thick", a, b, paired, "digit-classifier")
    return UnpairedTensors(a, b, info, ya, yb, train=split == "train")


def _check_size(size: int) -> None:
    if not 8 <= size <= 64:
        raise DataError(
            f"size={size} is out of range for the offline unpaired tasks: use 8..64 (e.g. 16)"
        )


def _info(name: str, a: Tensor, b: Tensor, paired: bool, extractor: str) -> DataInfo:
    return DataInfo(
        name=name,
        shape=tuple(b.shape[1:]),
        shape_b=tuple(b.shape[1:]),
        shape_a=tuple(a.shape[1:]),
        num_classes=10,
        extractor=extractor,
        pairing="paired" if paired else "unpaired",
    )
