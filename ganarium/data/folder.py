"""Image folders: ``root/*.png`` (unlabelled) or ``root/<class>/*.png`` (labelled).

``mirror`` flips each image left to right with probability 1/2, the mirror augmentation of
the papers trained on faces and scenes (Karras et al. 2018, 2020: ``--mirror=1``). The coin is
drawn from torch's global RNG, which ``BatchStream`` seeds per sample
(``data.stream.sample_seed``), so the flips are the same with any number of workers and after
any resume. Off by default: then nothing is drawn.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

from ganarium.data import DATASETS, DataInfo, GanDataset
from ganarium.data.transforms import coin, hflip
from ganarium.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


def list_images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_image(path: Path, size: int | None, channels: int) -> torch.Tensor:
    """One image as a float CHW tensor in [-1, 1] with ``channels`` (1: gray, 3: RGB),
    center-cropped and resized to ``size`` x ``size`` (``None``: as it is)."""
    if channels not in (1, 3):
        raise DataError(f"images are read with 1 (gray) or 3 (RGB) channels, not {channels}")
    from torchvision.transforms import functional as TF  # lazily: ~1 s per command

    try:
        with Image.open(path) as img:
            img = _eight_bit(img, path).convert("L" if channels == 1 else "RGB")
            if size is not None and img.size != (size, size):
                img = TF.center_crop(img, min(img.size))
                img = TF.resize(img, [size, size], antialias=True)
            x = TF.pil_to_tensor(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"corrupt image file {path}: {e}. Remove or replace it.") from None
    return x.float().div(127.5).sub(1.0)


def _eight_bit(img: Image.Image, path: Path) -> Image.Image:
    """16- and 32-bit integer images scaled to 8 bits (PIL would clip them); float images are
    refused, since their range is unknown."""
    if img.mode.startswith("I;16") or img.mode == "I":
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or a.max() > 255 else 255.0
        return Image.fromarray((a / top * 255).round().clip(0, 255).astype(np.uint8), "L")
    if img.mode == "F":
        raise DataError(
            f"image {path} holds floating-point pixels (mode F) of unknown range: save it as an "
            "8- or 16-bit PNG"
        )
    return img


class ImageFolderDataset(GanDataset):
    def __init__(
        self,
        root: str,
        size: int = 64,
        channels: int = 3,
        labelled: bool | None = None,
        mirror: bool = False,
    ):
        path = Path(root).expanduser()
        if not path.is_dir():
            raise DataError(f"data folder {path} does not exist: pass data.root=<folder of images>")
        self.files = list_images(path)
        if not self.files:
            raise DataError(
                f"data folder {path} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        classes = sorted(
            {f.parent.relative_to(path).parts[0] for f in self.files if f.parent != path}
        )
        if labelled is None:
            labelled = bool(classes) and all(f.parent != path for f in self.files)
        self.classes = classes if labelled else []
        index = {c: i for i, c in enumerate(self.classes)}
        self.labels = (
            [index[f.relative_to(path).parts[0]] for f in self.files] if labelled else None
        )
        self.size, self.channels, self.mirror = size, channels, mirror
        self.info = DataInfo(
            name=f"folder:{path.name}", shape=(channels, size, size), num_classes=len(self.classes)
        )

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        image = read_image(self.files[i], self.size, self.channels)
        if self.mirror and coin():
            image = hflip(image)
        item = {"image": image}
        if self.labels is not None:
            item["label"] = torch.tensor(self.labels[i])
        return item


@DATASETS.register("folder", description="a folder of images, optionally one sub-folder per class")
def folder(
    root: str = "",
    size: int = 64,
    channels: int = 3,
    labelled: bool | None = None,
    mirror: bool = False,
):
    if not root:
        raise DataError("the folder dataset needs a root: add data.root=<folder of images>")
    return ImageFolderDataset(root, size=size, channels=channels, labelled=labelled, mirror=mirror)
