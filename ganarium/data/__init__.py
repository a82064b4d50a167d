"""Datasets. Every dataset yields dict samples ({"image", "label"?, ...}) and carries a DataInfo.

Images are float tensors in [-1, 1], NCHW; toy 2-D data are float vectors under "image" too,
so every recipe reads ``batch["image"]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch.utils.data import Dataset

from ganarium.errors import DataError
from ganarium.registry import Registry

DATASETS: Registry = Registry("dataset", package="ganarium.data")


@dataclass(frozen=True)
class DataInfo:
    """What a dataset looks like, so nets can be built from it.

    shape: one sample's shape, (C, H, W) for images or (D,) for vectors.
    num_classes: 0 when the data has no labels.
    value_range: (low, high) of the values, or None when unbounded (toy 2-D data).
    extractor: the feature extractor that suits this data for FID, KID and precision/recall
        (``digit-classifier`` for digits, ``pixels`` for toy and shape data, else ``inception``).
    domain: the data-specific metric set in ``ganarium.metrics.DOMAINS`` (modes, exact
        precision, cheap periodic metrics): ``digits``, ``toy2d``, ``stacked-digits``,
        ``shapes``; empty when there is none.
    pairing: ``none`` for one domain; ``paired`` when each batch holds aligned ``image`` (A) and
        ``image_b`` (B); ``unpaired`` when the two are drawn independently.
    shape_b: one B-side sample's shape for two-domain data (None otherwise).
    """

    name: str
    shape: tuple[int, ...]
    num_classes: int = 0
    value_range: tuple[float, float] | None = (-1.0, 1.0)
    kind: Literal["image", "vector"] = "image"
    extras: dict[str, Any] = field(default_factory=dict)
    extractor: str = "inception"
    domain: str = ""
    pairing: Literal["none", "paired", "unpaired"] = "none"
    shape_b: tuple[int, ...] | None = None

    @property
    def channels(self) -> int:
        return self.shape[0] if self.kind == "image" else 1

    @property
    def resolution(self) -> int:
        return self.shape[-1] if self.kind == "image" else 0

    @property
    def labelled(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TensorDictDataset(Dataset):
    """An in-memory dataset of aligned tensors; BatchStream indexes it directly (no DataLoader)."""

    def __init__(self, tensors: dict[str, torch.Tensor], info: DataInfo) -> None:
        n = {k: len(v) for k, v in tensors.items()}
        if len(set(n.values())) != 1:
            raise ValueError(f"tensors of different lengths: {n}")
        if not n or next(iter(n.values())) == 0:
            raise DataError(f"dataset {info.name!r} is empty")
        check_values(tensors, info)
        self.tensors = tensors
        self.info = info

    def __len__(self) -> int:
        return len(self.tensors["image"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i] for k, v in self.tensors.items()}


def check_values(tensors: dict[str, torch.Tensor], info: DataInfo) -> None:
    """Refuse, naming the first bad sample, non-finite values, values outside the data's range
    and labels outside 0..K-1 (-1 marks an unlabelled example)."""
    for key in ("image", "image_b"):
        x = tensors.get(key)
        if x is None or not x.is_floating_point():
            continue
        flat = x.reshape(len(x), -1)
        bad = ~torch.isfinite(flat).all(1)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise DataError(
                f"dataset {info.name!r}: sample {i} ({key}) holds NaN or Inf values: fix or drop it"
            )
        if info.value_range is not None:
            lo, hi = info.value_range
            out = (flat < lo - 1e-3).any(1) | (flat > hi + 1e-3).any(1)
            if out.any():
                i = int(out.nonzero()[0])
                raise DataError(
                    f"dataset {info.name!r}: sample {i} ({key}) has values in "
                    f"[{float(flat[i].min()):.3g}, {float(flat[i].max()):.3g}], outside the data's "
                    f"range [{lo:g}, {hi:g}]: rescale it (images: x / 127.5 - 1)"
                )
    labels = tensors.get("label")
    if labels is not None and info.num_classes > 0:
        bad = (labels < -1) | (labels >= info.num_classes)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise DataError(
                f"dataset {info.name!r}: sample {i} has label {int(labels[i])}, outside "
                f"0..{info.num_classes - 1} (-1 marks an unlabelled example)"
            )


def load_dataset(name: str, **options: Any) -> Dataset:
    """Build dataset ``name`` with its options (e.g. ``size=16, split="test"``)."""
    factory = DATASETS.get(name)
    try:
        return factory(**options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            raise DataError(f"dataset {name!r}: {e}. Fix or remove that data option.") from None
        raise


def dataset_info(dataset: Dataset) -> DataInfo:
    info = getattr(dataset, "info", None)
    if not isinstance(info, DataInfo):
        raise TypeError("a ganarium dataset must carry a DataInfo as .info")
    return info


def to_unit_range(x_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return x_uint8.float().div(127.5).sub(1.0)


def quantize_images(x: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] as 8-bit files hold them (round to 256 levels), so metrics of
    generated samples equal the metrics of the same samples saved as PNG and read back."""
    return to_unit_range(((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))


def resize_images(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a float NCHW batch with antialiasing (no-op when already that size)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return torch.nn.functional.interpolate(
        x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    ).clamp(-1, 1)
