"""Semantic label maps -> photos, as pix2pixHD reads Cityscapes (Wang et al. 2018, "High-Resolution
Image Synthesis and Semantic Manipulation with Conditional GANs", Sec. 3.3-3.4).

Layout: ``root/<split>_label/`` (PNGs of class ids, one per pixel), ``root/<split>_img/`` (the
photos) and, optionally, ``root/<split>_inst/`` (PNGs of instance ids, 8 or 16 bits; used when
``instances`` is on, or by default when ``root/train_inst/`` exists). Files are
matched by name, Cityscapes' suffixes aside (``aachen_000000_000019_gtFine_labelIds.png`` goes
with ``..._gtFine_instanceIds.png`` and ``..._leftImg8bit.png``).

Each sample is ``{"image": A, "image_b": B}``: A is the one-hot label map of ``label_nc``
channels (values 0 and 1), followed, when instance maps are used, by the instance-boundary map
(1 where a pixel's instance id differs from one of its four neighbours); B is the photo in
[-1, 1]. Label and instance maps are resized with nearest-neighbour, photos bicubic, to
``load_size`` x ``load_width`` (height x width), cut to ``crop_size`` x ``crop_width`` (a random
window in training, centred otherwise; 0: the whole image) and flipped left to right with
probability 1/2 when ``flip`` (training only). The draws go through torch's global RNG, which
``BatchStream`` seeds per sample, so they are the same with any workers and after a resume.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.nn import functional as F

from ganarium.data import DATASETS, GanDataset
from ganarium.data.folder import IMAGE_SUFFIXES
from ganarium.data.paired import paired_info
from ganarium.data.transforms import (
    center_crop_origin,
    check_sizes,
    coin,
    crop,
    hflip,
    random_crop_origin,
    read_image_full,
    resize,
)
from ganarium.errors import DataError

# Cityscapes' name endings of the label, instance and photo files of one frame
_SUFFIX = re.compile(r"_(gtFine|gtCoarse)_(labelIds|instanceIds)$|_leftImg8bit$")


def frame_key(path: Path) -> str:
    """The name that matches a frame's label, instance and photo files: the file's stem without
    Cityscapes' ``_gtFine_labelIds`` / ``_gtFine_instanceIds`` / ``_leftImg8bit`` ending."""
    return _SUFFIX.sub("", path.stem)


def read_ids(path: Path) -> Tensor:
    """A label or instance map file as an (H, W) int64 tensor of the ids it holds."""
    try:
        with Image.open(path) as img:
            if img.mode not in ("L", "P", "I", "I;16", "I;16B", "I;16L", "1"):
                raise DataError(
                    f"id map {path} is a {img.mode} image: label and instance maps hold one id "
                    "per pixel (8- or 16-bit gray PNGs, e.g. Cityscapes' *_labelIds.png)"
                )
            ids = np.asarray(img).astype(np.int64)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"corrupt id map {path}: {e}. Remove or replace it.") from None
    return torch.from_numpy(ids)


def nearest_resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """(..., H, W) of any dtype -> (..., h, w), each output pixel the input pixel under its
    centre (PIL's NEAREST): ids are kept exactly."""
    h, w = size
    if x.shape[-2:] == (h, w):
        return x
    rows = ((torch.arange(h) + 0.5) * x.shape[-2] / h).long().clamp(max=x.shape[-2] - 1)
    cols = ((torch.arange(w) + 0.5) * x.shape[-1] / w).long().clamp(max=x.shape[-1] - 1)
    return x[..., rows, :][..., cols]


def instance_boundaries(ids: Tensor) -> Tensor:
    """(..., H, W) instance ids -> float (..., H, W), 1 where a pixel's id differs from that of
    one of its four neighbours, else 0 (pix2pixHD's boundary map, Sec. 3.4)."""
    edge = torch.zeros(ids.shape, dtype=torch.bool, device=ids.device)
    across = ids[..., :, 1:] != ids[..., :, :-1]
    edge[..., :, 1:] |= across
    edge[..., :, :-1] |= across
    down = ids[..., 1:, :] != ids[..., :-1, :]
    edge[..., 1:, :] |= down
    edge[..., :-1, :] |= down
    return edge.float()


def one_hot_labels(ids: Tensor, label_nc: int) -> Tensor:
    """(H, W) class ids in 0..label_nc-1 -> (label_nc, H, W) float, 1 in the id's channel."""
    return F.one_hot(ids, label_nc).permute(2, 0, 1).float()


def _listing(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in IMAGE_SUFFIXES or not p.is_file():
            continue
        key = frame_key(p)
        if key in files:
            raise DataError(f"{files[key]} and {p} are the same frame {key!r}: keep one of them")
        files[key] = p
    return files


class LabelMapFolder(GanDataset):
    """pix2pixHD's label-map layout (module docstring); ``len`` is the number of label maps."""

    def __init__(
        self,
        root: str,
        split: str = "train",
        label_nc: int = 35,
        instances: bool | None = None,
        load_size: int = 512,
        load_width: int = 1024,
        crop_size: int = 0,
        crop_width: int = 0,
        flip: bool = True,
    ) -> None:
        if split not in ("train", "test"):
            raise DataError(f"unknown split {split!r} for label maps: use train or test")
        if label_nc < 2:
            raise DataError(f"data.label_nc={label_nc}: a label map needs at least 2 classes")
        base = Path(root).expanduser()
        folders = {side: base / f"{split}_{side}" for side in ("label", "img", "inst")}
        if instances is None:  # the training split decides, so every split has one shape
            instances = (base / "train_inst").is_dir()
        needed = ("label", "img", "inst") if instances else ("label", "img")
        for side in needed:
            if not folders[side].is_dir():
                hint = " (or set data.instances=false)" if side == "inst" else ""
                raise DataError(
                    f"label-maps data needs {folders[side]}/{hint}: pass data.root=<folder holding "
                    f"{split}_label/, {split}_img/ and {split}_inst/>"
                )
        listed = {side: _listing(folders[side]) for side in needed}
        labels = listed["label"]
        if not labels:
            raise DataError(f"label folder {folders['label']} has no label maps: add .png files")
        for side in needed[1:]:
            unmatched = sorted(set(labels) ^ set(listed[side]))
            if unmatched:
                first = unmatched[0]
                where = "label" if first in listed[side] else side
                raise DataError(
                    f"label-maps {base}: frame {first!r} has no file in {folders[where].name}/ "
                    f"({len(unmatched)} unmatched): every label map needs a photo"
                    f"{' and an instance map' if instances else ''} of the same name"
                )
        keys = sorted(labels)
        self.frames = [tuple(listed[side][k] for side in needed) for k in keys]
        self.label_nc, self.instances = label_nc, instances
        self.load = (load_size, load_width or load_size)
        self.crop = (crop_size or self.load[0], crop_width or crop_size or self.load[1])
        for load, cut in zip(self.load, self.crop):
            check_sizes(load, cut)
        self.flip, self.train = flip, split == "train"
        channels = label_nc + (1 if instances else 0)
        self.info = paired_info(
            f"label-maps:{base.name}", (channels, *self.crop), (3, *self.crop), "none"
        )

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        paths = self.frames[i]
        labels = read_ids(paths[0])
        photo = read_image_full(paths[1], 3)
        maps = [labels] + ([read_ids(paths[2])] if self.instances else [])
        for path, m in zip(paths[1:], [photo, *maps[1:]]):
            if tuple(m.shape[-2:]) != tuple(labels.shape):
                raise DataError(
                    f"{path} is {m.shape[-1]}x{m.shape[-2]} but its label map {paths[0]} is "
                    f"{labels.shape[1]}x{labels.shape[0]}: a frame's files must be the same size"
                )
        top_id = int(labels.max())
        if top_id >= self.label_nc:
            raise DataError(
                f"label map {paths[0]} holds class id {top_id}, outside 0..{self.label_nc - 1}: "
                f"set data.label_nc={top_id + 1} or more"
            )
        ids = nearest_resize(torch.stack(maps), self.load)
        photo = resize(photo, self.load)
        origin = random_crop_origin if self.train else center_crop_origin
        top, left = origin(*self.load, self.crop)
        ids, photo = crop(ids, top, left, self.crop), crop(photo, top, left, self.crop)
        if self.flip and self.train and coin():
            ids, photo = hflip(ids), hflip(photo)
        a = one_hot_labels(ids[0], self.label_nc)
        if self.instances:
            a = torch.cat([a, instance_boundaries(ids[1])[None]])
        return {"image": a.contiguous(), "image_b": photo.contiguous()}


@DATASETS.register(
    "label-maps",
    description="pix2pixHD's label maps -> photos: root/{train,test}_{label,inst,img}/",
    splits=("train", "test"),
)
def label_maps(
    root: str = "",
    split: Literal["train", "test"] = "train",
    label_nc: int = 35,
    instances: bool | None = None,
    load_size: int = 512,
    load_width: int = 1024,
    crop_size: int = 0,
    crop_width: int = 0,
    flip: bool = True,
) -> LabelMapFolder:
    """``instances``: add the instance-boundary channel (None: when ``train_inst/`` exists)."""
    if not root:
        raise DataError(
            "the label-maps dataset needs a root: add data.root=<folder with train_label/>"
        )
    return LabelMapFolder(
        root, split, label_nc, instances, load_size, load_width, crop_size, crop_width, flip
    )
