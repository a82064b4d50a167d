"""The LSUN nets of LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks",
Fig. 3; the official ``vgg.py``), registered as ``lsgan-lsun``: 112x112 images from a 1024-d z.

G: linear -> (4w, r0, r0) -BN-ReLU, then 3x3 deconvs: two (stride 2, stride 1) pairs at 4w,
stride-2 deconvs to 2w and w, a stride-1 deconv to the image, tanh (BN-ReLU between).
D: 5x5 stride-2 convs w, 2w, 4w, 8w (BN after all but the first, LeakyReLU 0.2), linear logit.
w = ``width`` (64).
"""

from __future__ import annotations

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nets.dcgan import DCGANDiscriminator
from ganarium.nn.conditioning import LatentMode
from ganarium.nn.norms import check_norm, feature_norm


def _deconv(c_in: int, c_out: int, stride: int) -> nn.ConvTranspose2d:
    """3x3 transposed conv keeping (stride 1) or doubling (stride 2) the size, with bias."""
    return nn.ConvTranspose2d(c_in, c_out, 3, stride, 1, output_padding=stride - 1)


class LSGANGenerator(Generator):
    """z (B, z_dim) -> (B, C, R, R) in [-1, 1]; R = r0 * 2**k (112 = 7 * 16)."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 1024,
        width: int = 64,
        norm: str = "batch",
        cond: LatentMode = "concat",
    ) -> None:
        check_image(info, "lsgan-lsun")
        super().__init__(z_dim, info.num_classes, cond)
        norm = "none" if norm == "spectral" else check_norm(norm)
        self.r0, k = upsampling_plan(info.resolution)
        self.c0 = 4 * width
        self.linear = nn.Linear(self.latent.out_dim, self.c0 * self.r0**2)
        self.stem = nn.Sequential(feature_norm(norm, self.c0), nn.ReLU(True))
        layers: list[nn.Module] = []
        c = self.c0
        for i in range(k):
            c_out = 4 * width if i < k - 2 else width * 2 ** (k - 1 - i)
            layers += [_deconv(c, c_out, 2), feature_norm(norm, c_out), nn.ReLU(True)]
            if i < k - 2:  # the first up-samplings are followed by a same-size deconv
                layers += [_deconv(c_out, c_out, 1), feature_norm(norm, c_out), nn.ReLU(True)]
            c = c_out
        layers += [_deconv(c, info.channels, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.linear(self.latent(z, y)).view(-1, self.c0, self.r0, self.r0)
        return self.body(self.stem(h))


class LSGANDiscriminator(DCGANDiscriminator):
    """(B, C, R, R) -> features (B, 8w * r0 * r0) -> logit (B,): the DCGAN D with 5x5 kernels
    and biased convolutions."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "batch",
        cond: str = "none",
        slope: float = 0.2,
    ) -> None:
        super().__init__(
            info, width, norm, cond, slope, kernel=5, conv_bias=True, family="lsgan-lsun"
        )


NETS.add(
    "lsgan-lsun",
    NetFamily(LSGANGenerator, LSGANDiscriminator, "LSGAN's 112x112 LSUN nets (Mao et al. 2017)"),
)
