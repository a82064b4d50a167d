"""Architecture families. Each registers a NetFamily whose factories take the DataInfo.

Every generator maps (z, y=None) -> samples; every discriminator exposes ``features(x)``
(B, feature_dim) so recipes can add heads (auxiliary classifier, InfoGAN Q, feature matching),
and ``forward(x, y=None)`` -> (B,) logits, with an optional projection term for labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nn.conditioning import LatentConditioner, LatentMode, label_planes
from ganarium.nn.norms import sn
from ganarium.registry import Registry


@dataclass(frozen=True)
class NetFamily:
    generator: Callable[..., nn.Module]
    discriminator: Callable[..., nn.Module]
    description: str = ""


class NetRegistry(Registry[NetFamily]):
    """The net families; a name with ':' names a user's own nets (``ganarium.nets.own``), which
    only recipes built on AdversarialRecipe's G and D take: a family lookup of one refuses."""

    def get(self, name: str) -> NetFamily:
        if ":" in name:
            from ganarium.nets.own import refuse_family

            refuse_family(name)
        return super().get(name)


NETS: NetRegistry = NetRegistry("net", package="ganarium.nets")

DCondMode = Literal["none", "projection", "concat"]


def upsampling_plan(resolution: int, base: int = 4) -> tuple[int, int]:
    """(start resolution, number of x2 steps) with start*2**steps == resolution, start >= base.

    28 -> (7, 2); 16 -> (4, 2); 32 -> (4, 3); 64 -> (4, 4).
    """
    r, k = resolution, 0
    while r % 2 == 0 and r // 2 >= base:
        r, k = r // 2, k + 1
    if k == 0:
        raise ConfigError(
            f"resolution {resolution} cannot be reached by doubling from >= {base}: "
            "use a size such as 16, 28, 32 or 64"
        )
    return r, k


class Generator(nn.Module):
    """Base generator: owns the latent size and the label fusion at the latent."""

    def __init__(self, z_dim: int, num_classes: int = 0, cond: LatentMode = "concat") -> None:
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.latent = LatentConditioner(z_dim, num_classes, cond)


class Discriminator(nn.Module):
    """Base discriminator: subclasses build ``self.body`` (x -> (B, feature_dim)).

    cond='projection' adds <embed(y), features> to the logit (Miyato & Koyama 2018);
    cond='concat' appends one-hot label planes to the input.
    """

    def __init__(
        self,
        feature_dim: int,
        num_classes: int = 0,
        cond: DCondMode = "none",
        spectral: bool = False,
    ) -> None:
        super().__init__()
        if cond not in ("none", "projection", "concat"):
            raise ConfigError(
                f"unknown discriminator conditioning {cond!r}: use none, projection or concat"
            )
        self.feature_dim, self.num_classes = feature_dim, num_classes
        self.cond = cond if num_classes > 0 else "none"
        self.head = sn(nn.Linear(feature_dim, 1), spectral)
        self.embed = (
            sn(nn.Embedding(num_classes, feature_dim), spectral)
            if self.cond == "projection"
            else None
        )

    @staticmethod
    def input_channels(channels: int, num_classes: int, cond: str) -> int:
        return channels + (num_classes if cond == "concat" and num_classes > 0 else 0)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond == "concat":
            if y is None:
                raise ValueError("this discriminator is conditional: pass labels y")
            x = torch.cat([x, label_planes(y, self.num_classes, x)], 1)
        return self.body(x)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x, y)
        out = self.head(h).squeeze(1)
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator uses projection: pass labels y")
            out = out + (self.embed(y) * h).sum(1)
        return out


def check_image(info: DataInfo, family: str) -> None:
    if info.kind != "image":
        raise ConfigError(
            f"the {family} nets need image data, but {info.name} is {info.kind} data: use net=mlp"
        )
