"""Two digit domains without pairs, CoGAN's own tasks (Liu & Tuzel 2016, Sec. 5, Task A and B):
``digits-negative`` (digits <-> their negatives, 1 - x on the [0, 1] intensities) and
``digits-edges`` (digits <-> Canny edge maps, ``data.paired.digit_edges``).

A and B come from disjoint, stratified halves of each split of the shipped digits, each half
shuffled on its own (seeded), so row i's A and B show unrelated digits: nothing pairs the
domains but what a model learns. Items are ``{"image": A, "label": A's digit, "image_b": B,
"label_b": B's digit}``, in memory; ``pairing`` is ``unpaired``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from ganarium.data import DATASETS, DataInfo, TensorDictDataset
from ganarium.data.digits import digits
from ganarium.errors import DataError


def _halves(labels: Tensor, seed: int) -> tuple[Tensor, Tensor]:
    """Disjoint stratified halves of the indices, each in its own seeded random order."""
    g = torch.Generator().manual_seed(seed)
    first, second = [], []
    for c in labels.unique():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        first.append(idx[: len(idx) // 2])
        second.append(idx[len(idx) // 2 : 2 * (len(idx) // 2)])
    a, b = torch.cat(first), torch.cat(second)
    return a[torch.randperm(len(a), generator=g)], b[torch.randperm(len(b), generator=g)]


def negative(x: Tensor) -> Tensor:
    """The negative image, 1 - x on [0, 1] intensities: -x in [-1, 1]. Its own inverse."""
    return -x


# how a domain-B image turns back into a domain-A digit, by the transform that made it (the
# edge maps have no inverse): what CoGAN's check reads B samples with
TO_DOMAIN_A = {"negative": negative}


def two_domains(
    name: str, split: str, size: int, seed: int, to_b, transform: str
) -> TensorDictDataset:
    if not 8 <= size <= 64:
        raise DataError(f"{name} size={size} is out of range: use 8..64 (e.g. 16)")
    base = digits(split=split, size=size).tensors
    ia, ib = _halves(base["label"], seed)
    a, b = base["image"][ia], to_b(base["image"][ib])
    info = DataInfo(
        name=name,
        shape=tuple(a.shape[1:]),
        num_classes=10,
        shape_a=tuple(a.shape[1:]),
        transform=transform,
        extractor="digit-classifier",
        domain="digits",
        pairing="unpaired",
        shape_b=tuple(b.shape[1:]),
    )
    tensors = {"image": a, "label": base["label"][ia], "image_b": b, "label_b": base["label"][ib]}
    return TensorDictDataset({k: v.contiguous() for k, v in tensors.items()}, info)


@DATASETS.register(
    "digits-negative",
    description="digits and negatives of other digits, unpaired",
    splits=("train", "test"),
)
def digits_negative(
    split: Literal["train", "test"] = "train", size: int = 16, seed: int = 0
) -> TensorDictDataset:
    """A: digits; B: negatives of the other half's digits. Both (1, size, size)."""
    return two_domains("digits-negative", split, size, seed, negative, "negative")


@DATASETS.register(
    "digits-edges",
    description="digits and edge maps of other digits, unpaired",
    splits=("train", "test"),
)
def digits_edges(
    split: Literal["train", "test"] = "train", size: int = 16, seed: int = 0, sigma: float = 1.0
) -> TensorDictDataset:
    """A: digits; B: Canny edge maps of the other half's digits. Both (1, size, size)."""
    from ganarium.data.paired import digit_edges

    edges = lambda x: digit_edges(x, sigma)  # noqa: E731
    return two_domains("digits-edges", split, size, seed, edges, "edges")
