"""DCGAN nets (Radford et al. 2016): strided (transposed) 4x4 convs, BN, ReLU / LeakyReLU(0.2).

The same critic with norm='spectral' is the DCGAN-sized SNGAN discriminator, and with
norm='layer' the WGAN-GP critic.
"""

from __future__ import annotations

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import check_norm, feature_norm, sn


class DCGANGenerator(Generator):
    """z (B, z_dim) -> (B, C, R, R) in [-1, 1]. Channels halve at each doubling; ``width`` at the last."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 100,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode = "concat",
    ) -> None:
        check_image(info, "dcgan")
        super().__init__(z_dim, info.num_classes, cond)
        r0, k = upsampling_plan(info.resolution)
        norm = "none" if norm == "spectral" else check_norm(norm)
        c = width * 2 ** (k - 1)
        self.stem = nn.Sequential(
            nn.ConvTranspose2d(self.latent.out_dim, c, r0, 1, 0, bias=norm == "none"),
            feature_norm(norm, c),
            nn.ReLU(True),
        )
        layers: list[nn.Module] = []
        for _ in range(k - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=norm == "none"),
                feature_norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ConvTranspose2d(c, info.channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.latent(z, y)
        return self.body(self.stem(h[:, :, None, None]))


class DCGANDiscriminator(Discriminator):
    """(B, C, R, R) -> features (B, width*2**(k-1) * r0 * r0) -> logit (B,)."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "batch",
        cond: str = "none",
        slope: float = 0.2,
        kernel: int = 4,
        conv_bias: bool | None = None,
        family: str = "dcgan",
    ) -> None:
        """``kernel``: the stride-2 convolutions' size (padded to halve the resolution);
        ``conv_bias``: biases on the normed convolutions (None: only where no norm follows)."""
        check_image(info, family)
        r0, k = upsampling_plan(info.resolution)
        c_last = width * 2 ** (k - 1)
        spectral = check_norm(norm) == "spectral"
        super().__init__(c_last * r0 * r0, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        c_in = self.input_channels(info.channels, info.num_classes, self.cond)
        pad = (kernel - 1) // 2
        bias = norm in ("none", "spectral") if conv_bias is None else conv_bias
        layers: list[nn.Module] = [
            sn(nn.Conv2d(c_in, width, kernel, 2, pad), spectral),
            nn.LeakyReLU(slope, True),
        ]
        c = width
        for _ in range(k - 1):
            layers += [
                sn(nn.Conv2d(c, c * 2, kernel, 2, pad, bias=bias), spectral),
                feature_norm(norm, c * 2),
                nn.LeakyReLU(slope, True),
            ]
            c *= 2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)


NETS.add(
    "dcgan",
    NetFamily(DCGANGenerator, DCGANDiscriminator, "DCGAN strided conv nets (Radford et al. 2016)"),
)


class UniformLatent(nn.Module):
    """The generator of a recipe whose latent is U(-1, 1) (the DCGAN, LSGAN and BEGAN code): the
    recipe's LatentSpec draws z; this pass-through keeps the ``G.net.*`` names that checkpoints
    of such runs use. (B, z_dim)[, (B,)] -> samples."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.z_dim, self.num_classes = net.z_dim, net.num_classes

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z, y)


class PaperDCGANGenerator(Generator):
    """The official DCGAN generator (Radford et al. 2016; the Theano ``train_uncond_dcgan.py``):
    z -> projection (no bias) -BN-ReLU -> (8w, 4, 4) -> 5x5 stride-2 deconvs halving the
    channels (BN-ReLU) -> 5x5 stride-2 deconv -> tanh. No biases; w = ``width`` (128)."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 100,
        width: int = 128,
        norm: str = "batch",
        cond: LatentMode = "concat",
    ) -> None:
        check_image(info, "dcgan-paper")
        super().__init__(z_dim, info.num_classes, cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.r0, k = upsampling_plan(info.resolution)
        self.c0 = width * 2 ** (k - 1)
        units = self.c0 * self.r0**2
        fc_norm = nn.BatchNorm1d(units) if norm == "batch" else nn.Identity()
        self.fc = nn.Sequential(
            nn.Linear(self.latent.out_dim, units, bias=False), fc_norm, nn.ReLU(True)
        )
        layers: list[nn.Module] = []
        c = self.c0
        for _ in range(k - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 5, 2, 2, 1, bias=False)]
            layers += [feature_norm(norm, c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, info.channels, 5, 2, 2, 1, bias=False), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.body(self.fc(self.latent(z, y)).view(-1, self.c0, self.r0, self.r0))


class PaperDCGANDiscriminator(Discriminator):
    """The official DCGAN discriminator: 5x5 stride-2 convs doubling from ``width`` (BN after
    all but the first, LeakyReLU 0.2), no biases; a bias-free linear logit on the last map."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 128,
        norm: str = "batch",
        cond: str = "none",
        slope: float = 0.2,
    ) -> None:
        check_image(info, "dcgan-paper")
        r0, k = upsampling_plan(info.resolution)
        c_last = width * 2 ** (k - 1)
        spectral = check_norm(norm) == "spectral"
        super().__init__(c_last * r0 * r0, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        self.head = sn(nn.Linear(self.feature_dim, 1, bias=False), spectral)
        c = self.input_channels(info.channels, info.num_classes, self.cond)
        layers: list[nn.Module] = [
            sn(nn.Conv2d(c, width, 5, 2, 2, bias=False), spectral),
            nn.LeakyReLU(slope, True),
        ]
        c = width
        for _ in range(k - 1):
            layers += [sn(nn.Conv2d(c, c * 2, 5, 2, 2, bias=False), spectral)]
            layers += [feature_norm(norm, c * 2), nn.LeakyReLU(slope, True)]
            c *= 2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)


NETS.add(
    "dcgan-paper",
    NetFamily(
        PaperDCGANGenerator,
        PaperDCGANDiscriminator,
        "the official DCGAN nets: 5x5 kernels, projection stem, no biases (Radford et al. 2016)",
    ),
)
