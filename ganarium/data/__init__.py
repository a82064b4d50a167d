"""Datasets. Every dataset yields dict samples ({"image", "label"?, ...}) and carries a DataInfo.

Images are float tensors in [-1, 1], NCHW; toy 2-D data are float vectors under "image" too,
so every recipe reads ``batch["image"]``.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, field, fields
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

    What some data have besides (empty when not):
    shape_a: the A side's shape of two-domain data (None: the B side's).
    baseline: a paired task's trivial baseline (``identity``, ``mean-fill``, ``gray``, ...).
    transform: how an unpaired set's B side is made from A images (``negative``, ``edges``).
    modes / mode_std: the centres and spread of toy 2-D data's Gaussians.
    vocabulary / caption_length: the words and token length of captioned data.
    instances / kinds: the instance slots (K masks) and object kinds of instance scenes.
    neighbours: the k of IC-GAN's (instance, neighbour) pairs.
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
    shape_a: tuple[int, ...] | None = None
    baseline: str = ""
    transform: str = ""
    modes: tuple[tuple[float, ...], ...] = ()
    mode_std: float = 0.0
    vocabulary: tuple[str, ...] = ()
    caption_length: int = 0
    instances: int = 0
    kinds: tuple[str, ...] = ()
    neighbours: int = 0

    def __post_init__(self) -> None:
        # ``extras`` is the former untyped bag, kept as a read-only view of the typed fields
        # above for code and files written before them; a given bag fills those fields.
        typed = {f.name: f for f in fields(self) if f.name in _DECLARED}
        for key in typed:
            object.__setattr__(self, key, _frozen(getattr(self, key)))
        for key, value in self.extras.items():
            key = _LEGACY_KEYS.get(key, key)
            if key in typed and getattr(self, key) == typed[key].default:
                object.__setattr__(self, key, _frozen(value))
        view = {_VIEW_KEYS.get(k, k): getattr(self, k) for k in typed}
        view = {k: v for k, v in view.items() if v not in (None, "", (), 0, 0.0)}
        object.__setattr__(self, "extras", view)

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
        d = asdict(self)
        d.pop("extras")  # a view of the typed fields
        return d


_DECLARED = (
    "shape_a",
    "baseline",
    "transform",
    "modes",
    "mode_std",
    "vocabulary",
    "caption_length",
    "instances",
    "kinds",
    "neighbours",
)
_LEGACY_KEYS = {"std": "mode_std"}  # the bag's names where a typed field is named otherwise
_VIEW_KEYS = {v: k for k, v in _LEGACY_KEYS.items()}


def _frozen(value: Any) -> Any:
    """Lists (from JSON or YAML) as tuples, nested ones too."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


class GanDataset(Dataset):
    """Base of ganarium's datasets: a DataInfo as ``info``, and ``in_memory()`` saying whether
    the samples are aligned tensors that can be indexed directly (no DataLoader, no per-item
    reads)."""

    info: DataInfo

    def in_memory(self) -> dict[str, torch.Tensor] | None:
        """The samples as aligned tensors by key, or None when items are read one by one."""
        return None


def in_memory(dataset: Dataset) -> dict[str, torch.Tensor] | None:
    """``dataset.in_memory()`` for ganarium datasets; None for any other torch Dataset."""
    return dataset.in_memory() if isinstance(dataset, GanDataset) else None


REQUIRED = inspect.Parameter.empty  # an option without a default (a folder's root)


@dataclass(frozen=True)
class DatasetSpec:
    """What a registered dataset declares: its ``options`` (name -> default, ``REQUIRED`` when
    it has none) and the ``splits`` its ``split`` option takes (() when it has no held-out
    split)."""

    name: str
    options: dict[str, Any]
    splits: tuple[str, ...] = ()
    description: str = ""

    def takes(self, option: str) -> bool:
        return option in self.options

    @property
    def held_out(self) -> bool:
        """Whether it has a test split (else a held-out sample is drawn with a fresh seed)."""
        return "test" in self.splits


def dataset_spec(name: str) -> DatasetSpec:
    """The declaration of dataset ``name``: its options are its factory's keyword arguments and
    its splits are declared where it registers (``DATASETS.register(..., splits=(...))``)."""
    factory, meta = DATASETS.get(name), DATASETS.meta(name)
    options = {p.name: p.default for p in inspect.signature(factory).parameters.values()}
    splits = tuple(meta.get("splits", ()))
    if ("split" in options) != bool(splits):
        raise TypeError(f"dataset {name!r}: declare splits=(...) exactly when it takes a split")
    return DatasetSpec(name, options, splits, meta.get("description", ""))


class TensorDictDataset(GanDataset):
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

    def in_memory(self) -> dict[str, torch.Tensor]:
        return self.tensors


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
