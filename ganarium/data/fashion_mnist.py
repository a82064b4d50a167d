"""`fashion-mnist`: Zalando's Fashion-MNIST (Xiao et al. 2017), all 70,000 images, offline.

Read from the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/``)
or from torchvision's raw files under ``data.root`` (``ROOT/FashionMNIST/raw/``, or the four
idx files directly in ``ROOT``), gzipped or not. Nothing is downloaded. The parsed arrays are
cached as ``.npy`` beside the digits' cache, so later loads take milliseconds.

Splits: the files' own 60,000 train and 10,000 test images, or ``all`` 70,000. Metrics read the
project's Fashion-MNIST classifier (``fashion-classifier``), never Inception by default.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ganarium.data import DATASETS, DataInfo, TensorDictDataset, resize_images, to_unit_range
from ganarium.data.digits import cache_dir
from ganarium.errors import DataError

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SIZES = {"train": 60_000, "test": 10_000}
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
HOW_TO_GET = (
    "install the Debian package (apt-get install dataset-fashion-mnist, files under "
    f"{SYSTEM_DIR}/) or put torchvision's raw files in DATA_ROOT/FashionMNIST/raw/ and pass "
    "data.root=DATA_ROOT"
)


def _find(name: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
    return None


def source_folders(root: str | Path = "data") -> list[Path]:
    """Where the idx files are looked for, in order."""
    root = Path(root).expanduser()
    return [root / "FashionMNIST" / "raw", root, SYSTEM_DIR]


def find_files(root: str | Path = "data") -> dict[str, tuple[Path, Path]] | None:
    """{split: (images file, labels file)} from the first folder that has both splits."""
    for folder in source_folders(root):
        found = {s: tuple(_find(n, [folder]) for n in names) for s, names in FILES.items()}
        if all(p is not None for pair in found.values() for p in pair):
            return found  # type: ignore[return-value]
    return None


def available(root: str | Path = "data") -> bool:
    """True when the files can be read from ``root`` or the Debian package's folder."""
    return find_files(root) is not None


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped or not) as a numpy array: magic 0x0000 08 NDIM, then big-endian
    int32 dimensions, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path} is not an idx file of unsigned bytes: {HOW_TO_GET}")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">i4", count=ndim, offset=4)
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise DataError(f"{path} is cut short ({arr.size} of {int(np.prod(dims))} values)")
    return arr.reshape(tuple(int(d) for d in dims))


@lru_cache(maxsize=4)
def fashion_arrays(split: str, root: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels int64 (N,)) of ``split``: train, test or all."""
    if split == "all":
        parts = [fashion_arrays(s, root) for s in ("train", "test")]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if split not in FILES:
        raise DataError(f"unknown split {split!r} for fashion-mnist: use train, test or all")
    files = find_files(root)
    if files is None:
        looked = ", ".join(str(p) for p in source_folders(root))
        raise DataError(f"Fashion-MNIST is not on this machine (looked in {looked}): {HOW_TO_GET}")
    images_file, labels_file = files[split]
    stamp = f"{images_file.resolve()}:{images_file.stat().st_size}:{images_file.stat().st_mtime_ns}"
    key = hashlib.sha1(stamp.encode()).hexdigest()[:10]  # other files, another cache entry
    cached = cache_dir() / f"fashion-mnist-{split}-{key}.npz"
    if cached.exists():
        with np.load(cached, allow_pickle=False) as f:
            return f["images"], f["labels"]
    images, labels = read_idx(images_file), read_idx(labels_file).astype(np.int64)
    if images.shape != (SIZES[split], 28, 28) or labels.shape != (SIZES[split],):
        raise DataError(
            f"{images_file} holds {images.shape[0]} images, not Fashion-MNIST's {SIZES[split]}"
        )
    tmp = cached.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, images=images, labels=labels)
    os.replace(tmp, cached)
    return images, labels


@DATASETS.register(
    "fashion-mnist",
    description="Fashion-MNIST, 70,000 28x28 clothing images, read offline (Debian package or data.root)",
    splits=("train", "test", "all"),
)
def fashion_mnist(
    split: Literal["train", "test", "all"] = "train",
    size: int = 28,
    root: str = "data",
) -> TensorDictDataset:
    """Fashion-MNIST in [-1, 1], shape (1, size, size), labels 0-9 (``CLASSES``)."""
    if not 4 <= size <= 256:
        raise DataError(f"fashion-mnist size={size} is out of range: use 4..256 (e.g. 16 or 28)")
    images, labels = fashion_arrays(split, str(root))
    x = to_unit_range(torch.from_numpy(images.copy())).unsqueeze(1)
    x = torch.cat([resize_images(c, size) for c in x.split(10_000)])
    info = DataInfo(
        name="fashion-mnist",
        shape=(1, size, size),
        num_classes=10,
        extractor="fashion-classifier",
        domain="fashion-mnist",
    )
    return TensorDictDataset({"image": x.contiguous(), "label": torch.from_numpy(labels)}, info)
