"""`stacked-digits`: three digits as the R, G, B channels, 1,000 modes (Metz et al. 2017;
Srivastava et al. 2017, "VEEGAN"; Lin et al. 2018, "PacGAN")."""

from __future__ import annotations

import torch

from ganarium.data import DATASETS, DataInfo, TensorDictDataset
from ganarium.data.digits import digits


@DATASETS.register(
    "stacked-digits",
    description="three digits stacked as RGB channels: 1,000 modes",
    splits=("train", "test"),
)
def stacked_digits(
    split: str = "train", size: int = 28, n: int = 25_000, seed: int = 0
) -> TensorDictDataset:
    """``n`` seeded random triples of real digits; label = 100 * d_R + 10 * d_G + d_B."""
    base = digits(split=split, size=size)
    x, y = base.tensors["image"], base.tensors["label"]
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(x), (n, 3), generator=g)
    images = x[idx].squeeze(2)  # (n, 3, 1, H, W) -> (n, 3, H, W)
    labels = y[idx[:, 0]] * 100 + y[idx[:, 1]] * 10 + y[idx[:, 2]]
    info = DataInfo(
        name="stacked-digits",
        shape=(3, size, size),
        num_classes=1000,
        extractor="digit-classifier-x3",
        domain="stacked-digits",
    )
    return TensorDictDataset({"image": images, "label": labels}, info)
