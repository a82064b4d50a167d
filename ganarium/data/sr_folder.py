"""A folder of high-resolution photos as super-resolution pairs, as SRGAN trains (Ledig et al.
2017, "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network",
Sec. 3.2: random 96 x 96 HR crops of ImageNet photos, LR by bicubic 4x downsampling).

Each item is a random ``crop`` x ``crop`` window of one photo (B, ``image_b``) and that window
downsampled ``factor`` x with antialiased bicubic (A, ``image``; ``paired.downsample``, as
``digits-sr``). The window is drawn from torch's global RNG, which ``BatchStream`` seeds per
sample (``data.stream.sample_seed``), so crops are the same with any number of workers and
after any resume. Every file's header is read up front: photos smaller than the crop are
skipped with one warning, a folder with none left is refused.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from torch import Tensor

from ganarium.data import DATASETS, GanDataset
from ganarium.data.folder import IMAGE_SUFFIXES, list_images
from ganarium.data.paired import downsample, paired_info
from ganarium.data.transforms import crop, random_crop_origin, read_image_full
from ganarium.errors import DataError


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header."""
    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"corrupt image file {path}: {e}. Remove or replace it.") from None


class SRFolder(GanDataset):
    """``root``'s images (searched recursively) as (LR, HR) pairs: ``image`` (C, crop / factor,
    crop / factor), ``image_b`` (C, crop, crop), both in [-1, 1]."""

    def __init__(self, root: str, crop: int = 96, factor: int = 4, channels: int = 3) -> None:
        if factor < 2 or crop < factor or crop % factor:
            raise DataError(
                f"sr-folder data.crop={crop} must be a multiple of data.factor={factor} >= 2 "
                "(e.g. crop 96, factor 4)"
            )
        if channels not in (1, 3):
            raise DataError(f"sr-folder data.channels={channels}: use 1 (gray) or 3 (RGB)")
        path = Path(root).expanduser()
        if not path.is_dir():
            raise DataError(f"data folder {path} does not exist: pass data.root=<folder of photos>")
        found = list_images(path)
        if not found:
            raise DataError(
                f"data folder {path} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        large = [min(image_size(p)) >= crop for p in found]
        self.files = [p for p, ok in zip(found, large) if ok]
        small = [p for p, ok in zip(found, large) if not ok]
        if not self.files:
            raise DataError(
                f"none of the {len(found)} images in {path} is at least {crop}x{crop}: lower "
                "data.crop or add larger photos"
            )
        if small:
            warnings.warn(
                f"sr-folder: skipped {len(small)} of {len(found)} images smaller than "
                f"{crop}x{crop} (e.g. {small[0]})",
                stacklevel=2,
            )
        self.crop, self.factor, self.channels = crop, factor, channels
        low = crop // factor
        self.info = paired_info(
            f"sr-folder:{path.name}", (channels, low, low), (channels, crop, crop), "bicubic"
        )

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        photo = read_image_full(self.files[i], self.channels)
        top, left = random_crop_origin(photo.shape[-2], photo.shape[-1], self.crop)
        hr = crop(photo, top, left, self.crop).contiguous()
        return {"image": downsample(hr[None], self.factor)[0], "image_b": hr}


@DATASETS.register(
    "sr-folder", description="paired: random HR crops of a photo folder and their bicubic LR"
)
def sr_folder(root: str = "", crop: int = 96, factor: int = 4, channels: int = 3) -> SRFolder:
    if not root:
        raise DataError("the sr-folder dataset needs a root: add data.root=<folder of photos>")
    return SRFolder(root, crop, factor, channels)
