"""SRGAN's nets (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network", Fig. 4), fully convolutional.

- ``SRResNet``: c9 + PReLU; ``blocks`` residual blocks (c3-BN-PReLU-c3-BN, identity skip); c3-BN
  with a skip around all blocks; log2(factor) sub-pixel upsampling stages (c3 to 4x channels,
  PixelShuffle(2), PReLU; Shi et al. 2016); c9 to the output, tanh (16 blocks, 64 channels in
  the paper).
- ``SRDiscriminator``: c3 + LeakyReLU(0.2), then pairs of c3 blocks (stride 1 then 2, BN,
  LeakyReLU) doubling channels, then the paper's two dense layers (1024, 1) as 1x1 convs after
  global average pooling, so it takes any size; with ``input_size`` (H, W) the dense layers read
  the flattened (512, H / 16, W / 16) features as in the paper (96x96 crops: 18,432 inputs).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ganarium.errors import ConfigError


class _Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1),
            nn.BatchNorm2d(c),
            nn.PReLU(c),
            nn.Conv2d(c, c, 3, 1, 1),
            nn.BatchNorm2d(c),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """(B, in_channels, h, w) -> (B, out_channels, h * factor, w * factor) in [-1, 1]."""

    multiple = 1  # any input size

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        factor: int = 4,
        width: int = 64,
        blocks: int = 16,
    ) -> None:
        super().__init__()
        stages = int(round(math.log2(factor)))
        if factor < 2 or 2**stages != factor:
            raise ConfigError(f"SRResNet factor={factor} must be a power of 2 (2, 4, 8)")
        self.factor = factor
        self.head = nn.Sequential(nn.Conv2d(in_channels, width, 9, 1, 4), nn.PReLU(width))
        self.body = nn.Sequential(
            *[_Residual(width) for _ in range(blocks)],
            nn.Conv2d(width, width, 3, 1, 1),
            nn.BatchNorm2d(width),
        )
        up: list[nn.Module] = []
        for _ in range(stages):
            up += [nn.Conv2d(width, 4 * width, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.tail = nn.Sequential(*up, nn.Conv2d(width, out_channels, 9, 1, 4), nn.Tanh())

    def forward(self, x: Tensor) -> Tensor:
        h = self.head(x)
        return self.tail(h + self.body(h))


class SRDiscriminator(nn.Module):
    """(B, channels, H, W) -> logits (B,): ``pairs`` (stride-1, stride-2) c3 block pairs from
    ``width`` doubling (4 pairs, 64 -> 512, in the paper), then dense 1024 -> 1: as 1x1 convs
    after average pooling (any input size), or on the flattened features of an ``input_size``
    (H, W) input (the paper's; only that size)."""

    def __init__(
        self,
        channels: int,
        width: int = 64,
        pairs: int = 4,
        input_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for i in range(pairs):
            c_out = width * 2**i
            for stride in (2,) if i == 0 else (1, 2):
                layers += [
                    nn.Conv2d(c, c_out, 3, stride, 1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.LeakyReLU(0.2, True),
                ]
                c = c_out
        dense = 16 * width
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        if self.input_size is None:
            layers += [
                nn.AdaptiveAvgPool2d(1),
                nn.Conv2d(c, dense, 1),
                nn.LeakyReLU(0.2, True),
                nn.Conv2d(dense, 1, 1),
            ]
        else:
            h, w = self.input_size
            if h % 2**pairs or w % 2**pairs:
                raise ConfigError(
                    f"SRGAN's dense D needs sides divisible by {2**pairs}, got {h}x{w}: crop to "
                    "a multiple (the paper: 96) or use the pooled head"
                )
            flat = c * (h // 2**pairs) * (w // 2**pairs)
            layers += [
                nn.Flatten(),
                nn.Linear(flat, dense),
                nn.LeakyReLU(0.2, True),
                nn.Linear(dense, 1),
            ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.input_size is not None and tuple(x.shape[-2:]) != self.input_size:
            raise ConfigError(
                f"this SRGAN D reads {self.input_size[0]}x{self.input_size[1]} images (its dense "
                f"layer is sized for them), got {x.shape[-2]}x{x.shape[-1]}"
            )
        return self.body(x).flatten()
