"""`instances`: any in-memory image dataset served as IC-GAN trains on it (Casanova et al. 2021,
"Instance-Conditioned GAN", Sec. 2): each item is an instance x_i (``instance``) and a real
image x_j drawn uniformly from the instance's k nearest neighbours A_i (``image``), so a
discriminator sees real images of the instance's neighbourhood.

Neighbours are by cosine similarity of ``instance_features``: the paper uses a frozen
self-supervised network (SwAV); here the feature space is the images' own pixels, pooled to at
most 16 x 16 per channel, centred and unit-normalised per image, which needs no download and is
the same function the IC-GAN recipe conditions on. On the 16 x 16 digits 92% of an instance's
10 nearest neighbours (itself included) share its class (91% for test instances among the
train images).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.data import DATASETS, DataInfo, GanDataset, in_memory, load_dataset
from ganarium.errors import DataError

FEATURE_SIDE = 16


def instance_features(x: Tensor) -> Tensor:
    """Images (N, C, H, W) -> unit feature vectors (N, C * s * s), s = min(H, 16)."""
    side = min(FEATURE_SIDE, x.shape[-1])
    h = F.adaptive_avg_pool2d(x.float(), side).flatten(1)
    return F.normalize(h - h.mean(1, keepdim=True), dim=1)


def nearest_neighbours(queries: Tensor, keys: Tensor, k: int, batch: int = 1000) -> Tensor:
    """Indices (N, k) of each query feature's k most cosine-similar keys (unit vectors)."""
    out = [
        (queries[i : i + batch] @ keys.T).topk(k, 1).indices for i in range(0, len(queries), batch)
    ]
    return torch.cat(out)


class InstanceDataset(GanDataset):
    """Items {"image": a random neighbour of instance i, "instance": x_i, "label": the
    neighbour's label} (labels when the base has them). The neighbour is drawn from torch's
    global RNG, which ``BatchStream`` seeds per sample, so runs resume exactly."""

    def __init__(self, images: Tensor, labels: Tensor | None, k: int, info: DataInfo) -> None:
        if not 1 <= k <= len(images):
            raise DataError(f"instances k={k} must lie in 1..{len(images)} (the dataset's size)")
        self.images, self.labels, self.k, self.info = images, labels, k, info
        self.features = instance_features(images)
        # each instance's neighbourhood A_i, itself included (its nearest neighbour)
        self.neighbours = nearest_neighbours(self.features, self.features, k)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        j = self.neighbours[i, int(torch.randint(self.k, ()))]
        item = {"image": self.images[j], "instance": self.images[i]}
        if self.labels is not None:
            item["label"] = self.labels[j]
        return item


@DATASETS.register(
    "instances",
    description="IC-GAN's (instance, neighbour) pairs of a dataset",
    splits=("train", "test"),
)
def instances(
    base: str = "digits", k: int = 10, split: str = "train", size: int = 28
) -> InstanceDataset:
    """Dataset ``base`` (its ``split`` at ``size``) as (instance, neighbour) pairs, with
    neighbourhoods of ``k`` images by pixel-feature cosine similarity."""
    data = load_dataset(base, split=split, size=size)
    tensors = in_memory(data)
    if tensors is None or data.info.kind != "image":
        raise DataError(f"instances needs an in-memory image dataset; {base!r} is not one")
    info = dataclasses.replace(data.info, neighbours=k)
    return InstanceDataset(tensors["image"], tensors.get("label"), k, info)
