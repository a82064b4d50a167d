"""torchvision datasets from a local root. Nothing is downloaded unless ``download=True``.
(``fashion-mnist`` has its own offline loader: ganarium/data/fashion_mnist.py.)"""

from __future__ import annotations

from typing import Any

import torch

from ganarium.data import DATASETS, DataInfo, GanDataset
from ganarium.errors import DataError

_SETS: dict[str, tuple[str, int, int, int, str, str]] = {
    # name: (torchvision class, channels, classes, native size, extractor, domain)
    "mnist": ("MNIST", 1, 10, 28, "digit-classifier", "digits"),
    "cifar10": ("CIFAR10", 3, 10, 32, "inception", ""),
    "celeba": ("CelebA", 3, 0, 64, "inception", ""),
}


class TorchvisionDataset(GanDataset):
    def __init__(self, name: str, root: str, split: str, size: int | None, download: bool):
        from torchvision import datasets  # lazily: ~1 s per command
        from torchvision import transforms as T

        cls_name, channels, classes, native, extractor, domain = _SETS[name]
        cls = getattr(datasets, cls_name)
        size = size or native
        tf = T.Compose(
            ([T.CenterCrop(148)] if name == "celeba" else [])
            + [
                T.Resize(size, antialias=True),
                T.CenterCrop(size),
                T.ToTensor(),
                T.Normalize([0.5] * channels, [0.5] * channels),
            ]
        )
        kwargs: dict[str, Any] = {"root": root, "transform": tf, "download": download}
        if name == "celeba":
            kwargs["split"] = "valid" if split == "test" else split
        else:
            kwargs["train"] = split == "train"
        try:
            self.ds = cls(**kwargs)
        except RuntimeError as e:
            raise DataError(
                f"{name} not found under {root!r} ({e}). Put the files there or add "
                f"data.download=true (needs internet)."
            ) from None
        self.labelled = classes > 0
        self.info = DataInfo(
            name=name,
            shape=(channels, size, size),
            num_classes=classes,
            extractor=extractor,
            domain=domain,
        )

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        x, y = self.ds[i]
        item = {"image": x}
        if self.labelled:
            item["label"] = torch.as_tensor(y)
        return item


def _register(name: str) -> None:
    def factory(
        root: str = "data", split: str = "train", size: int | None = None, download: bool = False
    ) -> TorchvisionDataset:
        return TorchvisionDataset(name, root, split, size, download)

    DATASETS.add(
        name,
        factory,
        description=f"torchvision {name} from a local root",
        splits=("train", "test"),
    )


for _name in _SETS:
    _register(_name)
