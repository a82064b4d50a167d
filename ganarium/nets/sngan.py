"""The nets of SNGAN (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial
Networks"): the standard CNN of Table 3, registered as ``sngan-cnn``, and the ResNets of
Appendix B per resolution, registered as ``sngan-resnet`` (layouts as in mimicry's
``sngan_32/48/64/128``; 32 is the CIFAR net, 48 the STL-10 net).

The ResNets' widths follow the resolution: at 32 (and below, for small tests) every block has
``width`` channels and D down-samples twice, then runs two plain blocks; at 48 and above G's
channels halve from ``width`` at each up-sampling and D's double from ``width / 16`` up to
``width``. D's residual blocks keep the input's channels in their first convolution, as the
official code does.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.cond_bn import ConditionalBatchNorm2d
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import check_norm, feature_norm, sn

Upsample = Literal["bilinear", "nearest"]
Pool = Literal["sum", "mean"]

# resolution -> (G's channel divisors per up-sampling block, D's (divisor, down-samples) per block)
RESNET_PLANS: dict[int, tuple[tuple[int, ...], tuple[tuple[int, bool], ...]]] = {
    48: ((2, 4, 8), ((16, True), (8, True), (4, True), (2, True), (1, False))),
    64: ((2, 4, 8, 16), ((16, True), (8, True), (4, True), (2, True), (1, True))),
    128: ((1, 2, 4, 8, 16), ((16, True), (8, True), (4, True), (2, True), (1, True), (1, False))),
}
# the official widths (G's ngf, D's ndf) per resolution; at 32 and below (CIFAR) 256 and 128
RESNET_WIDTHS: dict[int, tuple[int, int]] = {48: (512, 1024), 64: (1024, 1024), 128: (1024, 1024)}


def _xavier(module: nn.Module, gain: float) -> nn.Module:
    """The official initialisation (Glorot uniform with ``gain``, zero bias)."""
    nn.init.xavier_uniform_(module.weight, gain)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)
    return module


def resnet_plan(resolution: int) -> tuple[int, tuple[int, ...], tuple[tuple[int, bool], ...]]:
    """(bottom width, G's channel divisors, D's blocks) of the SNGAN ResNet at ``resolution``.

    32 -> (4, (1, 1, 1), ((1, True), (1, True), (1, False), (1, False))).
    """
    if resolution in RESNET_PLANS:
        ups, blocks = RESNET_PLANS[resolution]
        return resolution >> len(ups), ups, blocks
    r0, k = upsampling_plan(resolution)
    if resolution > 32 or r0 != 4:
        raise ConfigError(
            f"the sngan-resnet nets have no layout for {resolution}x{resolution}: use 32 or less "
            f"(a power of two), 48, 64 or 128"
        )
    downs = max(k - 1, 1)
    return r0, (1,) * k, ((1, True),) * downs + ((1, False),) * 2


def default_widths(resolution: int) -> tuple[int, int]:
    """The official (G width, D width) at ``resolution``."""
    return RESNET_WIDTHS.get(resolution, (256, 128))


class UpBlock(nn.Module):
    """BN-ReLU-up-conv3-BN-ReLU-conv3 plus up-1x1 shortcut: (B,Ci,H,W) -> (B,Co,2H,2W)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        num_classes: int = 0,
        upsample: Upsample = "bilinear",
        norm: str = "batch",
    ) -> None:
        super().__init__()
        self.mode = upsample
        if num_classes > 0:
            self.norm1 = ConditionalBatchNorm2d(c_in, num_classes=num_classes)
            self.norm2 = ConditionalBatchNorm2d(c_out, num_classes=num_classes)
        else:
            self.norm1, self.norm2 = feature_norm(norm, c_in), feature_norm(norm, c_out)
        self.conv1 = _xavier(nn.Conv2d(c_in, c_out, 3, padding=1), math.sqrt(2))
        self.conv2 = _xavier(nn.Conv2d(c_out, c_out, 3, padding=1), math.sqrt(2))
        self.skip = _xavier(nn.Conv2d(c_in, c_out, 1), 1.0)

    def _up(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "bilinear":
            return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return F.interpolate(x, scale_factor=2, mode="nearest")

    def _norm(self, norm: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return norm(x, y) if isinstance(norm, ConditionalBatchNorm2d) else norm(x)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(self._up(F.relu(self._norm(self.norm1, x, y))))
        h = self.conv2(F.relu(self._norm(self.norm2, h, y)))
        return h + self.skip(self._up(x))


class DownBlock(nn.Module):
    """ReLU-conv3-ReLU-conv3[-avgpool] plus a 1x1[-avgpool] shortcut (identity when the shape
    is kept); the first conv keeps ``c_in`` channels. ``first``: SNGAN's optimized block (no
    leading ReLU, first conv to ``c_out``, shortcut pools before its 1x1 conv)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        downsample: bool,
        spectral: bool = True,
        first: bool = False,
        norm: str = "none",
    ) -> None:
        super().__init__()
        self.downsample, self.first = downsample, first
        hidden = c_out if first else c_in
        self.norm1 = nn.Identity() if first else feature_norm(norm, c_in)
        self.norm2 = feature_norm(norm, hidden)
        self.conv1 = sn(_xavier(nn.Conv2d(c_in, hidden, 3, padding=1), math.sqrt(2)), spectral)
        self.conv2 = sn(_xavier(nn.Conv2d(hidden, c_out, 3, padding=1), math.sqrt(2)), spectral)
        learnable = first or downsample or c_in != c_out
        self.skip = sn(_xavier(nn.Conv2d(c_in, c_out, 1), 1.0), spectral) if learnable else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(self.norm1(x))
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.skip is None:
            return h + x
        if self.first:
            return h + self.skip(F.avg_pool2d(x, 2))
        s = self.skip(x)
        return h + (F.avg_pool2d(s, 2) if self.downsample else s)


class SNGANResNetGenerator(Generator):
    """z (B, z_dim) -> linear -> (width, r0, r0) -> up-blocks -> BN-ReLU-conv3-tanh.

    cond='cbn' conditions the blocks' batch norms on the label.
    """

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 128,
        width: int | None = None,
        norm: str = "batch",
        cond: LatentMode | Literal["cbn"] = "concat",
        upsample: Upsample = "bilinear",
    ) -> None:
        check_image(info, "sngan-resnet")
        if upsample not in ("bilinear", "nearest"):
            raise ConfigError(f"unknown upsampling {upsample!r}: use bilinear or nearest")
        self.cbn = cond == "cbn" and info.num_classes > 0
        super().__init__(z_dim, info.num_classes, "none" if cond == "cbn" else cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.r0, ups, _ = resnet_plan(info.resolution)
        self.width = width or default_widths(info.resolution)[0]
        self.linear = _xavier(nn.Linear(self.latent.out_dim, self.width * self.r0**2), 1.0)
        channels = [self.width] + [self.width // d for d in ups]
        k = info.num_classes if self.cbn else 0
        self.blocks = nn.ModuleList(
            UpBlock(a, b, k, upsample, norm) for a, b in zip(channels[:-1], channels[1:])
        )
        self.out_norm = feature_norm(norm, channels[-1])
        self.out_conv = _xavier(nn.Conv2d(channels[-1], info.channels, 3, padding=1), 1.0)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.linear(self.latent(z, y)).view(-1, self.width, self.r0, self.r0)
        for block in self.blocks:
            h = block(h, y if self.cbn else None)
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))


class _PooledBody(nn.Module):
    def __init__(self, blocks: list[nn.Module], pool: Pool) -> None:
        super().__init__()
        self.blocks, self.pool = nn.Sequential(*blocks), pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.blocks(x))
        return h.sum(dim=(2, 3)) if self.pool == "sum" else h.mean(dim=(2, 3))


class SNGANResNetDiscriminator(Discriminator):
    """Residual down-blocks, ReLU, global sum pooling -> (B, width) -> linear logit."""

    def __init__(
        self,
        info: DataInfo,
        width: int | None = None,
        norm: str = "spectral",
        cond: str = "none",
        pool: Pool = "sum",
    ) -> None:
        check_image(info, "sngan-resnet")
        norm = check_norm(norm)
        if norm in ("batch", "instance"):
            raise ConfigError(f"the sngan-resnet D takes norm spectral, layer or none, not {norm}")
        spectral = norm == "spectral"
        block_norm = "layer" if norm == "layer" else "none"
        width = width or default_widths(info.resolution)[1]
        super().__init__(width, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        head_weight = self.head.parametrizations.weight.original if spectral else self.head.weight
        nn.init.xavier_uniform_(head_weight)
        _, _, plan = resnet_plan(info.resolution)
        c = self.input_channels(info.channels, info.num_classes, self.cond)
        blocks: list[nn.Module] = []
        for i, (divisor, down) in enumerate(plan):
            c_out = width // divisor
            blocks.append(DownBlock(c, c_out, down, spectral, first=i == 0, norm=block_norm))
            c = c_out
        self.body = _PooledBody(blocks, pool)


class SNGANCNNGenerator(Generator):
    """Table 3 (a): z -> dense-BN-ReLU (8w, r0, r0) -> 4x4 stride-2 deconvs halving the channels
    (BN-ReLU) -> 3x3 deconv -> tanh. w = ``width`` (64 in the paper)."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 128,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode = "concat",
    ) -> None:
        check_image(info, "sngan-cnn")
        super().__init__(z_dim, info.num_classes, cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.r0, k = upsampling_plan(info.resolution)
        self.c0 = width * 2**k
        units = self.c0 * self.r0**2
        fc_norm = nn.BatchNorm1d(units) if norm == "batch" else nn.Identity()
        self.fc = nn.Sequential(nn.Linear(self.latent.out_dim, units), fc_norm, nn.ReLU(True))
        layers: list[nn.Module] = []
        c = self.c0
        for _ in range(k):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), feature_norm(norm, c // 2)]
            layers.append(nn.ReLU(True))
            c //= 2
        layers += [nn.ConvTranspose2d(c, info.channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(self.latent(z, y)).view(-1, self.c0, self.r0, self.r0)
        return self.body(h)


class SNGANCNNDiscriminator(Discriminator):
    """Table 3 (b): per scale a 3x3 conv then a 4x4 stride-2 conv doubling the channels, a last
    3x3 conv at 8w, lReLU(0.1) after each; dense on the (8w, r0, r0) map -> logit."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "spectral",
        cond: str = "none",
        slope: float = 0.1,
    ) -> None:
        check_image(info, "sngan-cnn")
        spectral = check_norm(norm) == "spectral"
        r0, k = upsampling_plan(info.resolution)
        c_last = width * 2**k
        super().__init__(c_last * r0 * r0, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        c = self.input_channels(info.channels, info.num_classes, self.cond)
        layers: list[nn.Module] = []
        widths = [width * 2**i for i in range(k + 1)]
        for i, w in enumerate(widths):
            layers += [sn(nn.Conv2d(c, w, 3, 1, 1), spectral), feature_norm(norm, w)]
            layers.append(nn.LeakyReLU(slope, True))
            c = w
            if i < k:
                w2 = widths[i + 1]
                layers += [sn(nn.Conv2d(c, w2, 4, 2, 1), spectral), feature_norm(norm, w2)]
                layers.append(nn.LeakyReLU(slope, True))
                c = w2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)


NETS.add(
    "sngan-cnn",
    NetFamily(
        SNGANCNNGenerator,
        SNGANCNNDiscriminator,
        "SNGAN's standard CNN (Miyato et al. 2018, Table 3)",
    ),
)
NETS.add(
    "sngan-resnet",
    NetFamily(
        SNGANResNetGenerator,
        SNGANResNetDiscriminator,
        "SNGAN's ResNets per resolution: 32 (CIFAR), 48 (STL-10), 64, 128 (Miyato et al. 2018)",
    ),
)
