"""ResNet nets of SNGAN (Miyato et al. 2018, Appendix B), width-scalable for tiny tests."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.cond_bn import ConditionalBatchNorm2d
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import check_norm, feature_norm
from ganarium.nn.resblocks import ResBlockDown, ResBlockUp


class ResNetGenerator(Generator):
    """z -> linear -> (ch, r0, r0) -> k ResBlockUp -> BN-ReLU-conv3-tanh -> (B, C, R, R).

    cond='cbn' conditions the blocks' batch norms on the label (conditional BN, Miyato & Koyama
    2018) instead of fusing the label with z.
    """

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 128,
        width: int = 128,
        norm: str = "batch",
        cond: LatentMode | Literal["cbn"] = "concat",
    ) -> None:
        check_image(info, "resnet")
        self.cbn = cond == "cbn" and info.num_classes > 0
        super().__init__(z_dim, info.num_classes, "none" if cond == "cbn" else cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.r0, k = upsampling_plan(info.resolution)
        self.width = width
        self.linear = nn.Linear(self.latent.out_dim, width * self.r0 * self.r0)
        if self.cbn:
            make_norm = lambda c: ConditionalBatchNorm2d(c, num_classes=info.num_classes)  # noqa: E731
        else:
            make_norm = lambda c: feature_norm(norm, c)  # noqa: E731
        self.blocks = nn.ModuleList(ResBlockUp(width, width, make_norm) for _ in range(k))
        self.out_norm = feature_norm(norm, width)
        self.out_conv = nn.Conv2d(width, info.channels, 3, padding=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.linear(self.latent(z, y)).view(-1, self.width, self.r0, self.r0)
        for block in self.blocks:
            h = block(h, y if self.cbn else None)
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))


class _ResNetBody(nn.Module):
    def __init__(self, blocks: list[nn.Module]) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.blocks(x)).sum(dim=(2, 3))  # global sum pooling, as in SNGAN


class ResNetDiscriminator(Discriminator):
    """k downsampling ResBlocks then two plain ones, ReLU, global sum pool -> (B, width)."""

    def __init__(
        self, info: DataInfo, width: int = 128, norm: str = "spectral", cond: str = "none"
    ) -> None:
        check_image(info, "resnet")
        spectral = check_norm(norm) == "spectral"
        super().__init__(width, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        _, k = upsampling_plan(info.resolution)
        c_in = self.input_channels(info.channels, info.num_classes, self.cond)
        blocks: list[nn.Module] = [ResBlockDown(c_in, width, spectral, downsample=True, first=True)]
        blocks += [ResBlockDown(width, width, spectral, downsample=True) for _ in range(k - 1)]
        blocks += [ResBlockDown(width, width, spectral, downsample=False) for _ in range(2)]
        self.body = _ResNetBody(blocks)


NETS.add(
    "resnet",
    NetFamily(ResNetGenerator, ResNetDiscriminator, "SNGAN ResNet nets (Miyato et al. 2018)"),
)
