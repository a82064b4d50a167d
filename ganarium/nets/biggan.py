"""BigGAN and BigGAN-deep nets (Brock et al. 2019, "Large Scale GAN Training for High Fidelity
Natural Image Synthesis", Appendix B), scaled by one ``width`` multiplier so tests use tiny nets.

Generator: a shared class embedding; z split into one chunk per block plus one for the input
linear ("hierarchical latent", skip-z); every block's batch norms are conditional on the vector
[shared(y), z_chunk] with gains centred at 1; optional self-attention; spectral norm throughout.
BigGAN-deep instead feeds the whole [z, shared(y)] to every block and uses bottleneck residual
blocks, two per resolution. Discriminator: residual downsampling blocks with a projection head.
The authors' nets at their channel tables are in ``ganarium.nets.biggan_official``
(the recipe's ``arch=official``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganarium.data import DataInfo
from ganarium.nets import NETS, Discriminator, Generator, NetFamily, check_image, upsampling_plan
from ganarium.nets.resnet import _ResNetBody
from ganarium.nn.attention import SelfAttention
from ganarium.nn.cond_bn import ConditionalBatchNorm2d
from ganarium.nn.norms import apply_norm, check_norm, sn
from ganarium.nn.resblocks import ResBlockDown, ResBlockUp


def channel_plan(width: int, k: int) -> list[int]:
    """Generator channels at the input and after each of k up-blocks: width * 2**(k..0)."""
    return [width * 2 ** (k - i) for i in range(k + 1)]


def split_sizes(total: int, parts: int) -> list[int]:
    """Sizes of z's chunks: equal, the remainder going to the first (the input linear's)."""
    base = total // parts
    if base < 1:
        raise ValueError(f"z_dim={total} is too small to split over {parts} chunks")
    return [total - base * (parts - 1)] + [base] * (parts - 1)


class DeepBlockUp(nn.Module):
    """BigGAN-deep generator block (Fig. 16): 1x1 down to c/4, two 3x3, 1x1 up; the shortcut
    keeps the first c_out channels (no 1x1 conv). (B, Ci, H, W) -> (B, Co, sH, sW)."""

    def __init__(self, c_in: int, c_out: int, make_norm, upsample: bool, spectral: bool = True):
        super().__init__()
        mid = max(1, c_in // 4)
        self.upsample, self.c_out = upsample, c_out
        self.norms = nn.ModuleList(
            [make_norm(c_in), make_norm(mid), make_norm(mid), make_norm(mid)]
        )
        self.convs = nn.ModuleList(
            [
                sn(nn.Conv2d(c_in, mid, 1), spectral),
                sn(nn.Conv2d(mid, mid, 3, padding=1), spectral),
                sn(nn.Conv2d(mid, mid, 3, padding=1), spectral),
                sn(nn.Conv2d(mid, c_out, 1), spectral),
            ]
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = x
        for i, (norm, conv) in enumerate(zip(self.norms, self.convs)):
            h = F.relu(apply_norm(norm, h, cond))
            if i == 1 and self.upsample:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = conv(h)
        s = x[:, : self.c_out]
        if self.upsample:
            s = F.interpolate(s, scale_factor=2, mode="nearest")
        return h + s


class DeepBlockDown(nn.Module):
    """BigGAN-deep discriminator block: 1x1 down to c_out/4, two 3x3, [avgpool], 1x1 up; the
    shortcut concatenates a learned 1x1 projection to reach c_out channels."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, spectral: bool = True):
        super().__init__()
        mid = max(1, c_out // 4)
        self.downsample = downsample
        self.conv1 = sn(nn.Conv2d(c_in, mid, 1), spectral)
        self.conv2 = sn(nn.Conv2d(mid, mid, 3, padding=1), spectral)
        self.conv3 = sn(nn.Conv2d(mid, mid, 3, padding=1), spectral)
        self.conv4 = sn(nn.Conv2d(mid, c_out, 1), spectral)
        self.extra = sn(nn.Conv2d(c_in, c_out - c_in, 1), spectral) if c_out > c_in else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.relu(x))
        h = self.conv3(F.relu(self.conv2(F.relu(h))))
        h = F.relu(h)
        if self.downsample:
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        s = x if self.extra is None else torch.cat([x, self.extra(x)], 1)
        return self.conv4(h) + s


class BigGANGenerator(Generator):
    """z (B, z_dim), y (B,) -> (B, C, R, R) in [-1, 1]."""

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 120,
        width: int = 64,
        norm: str = "batch",
        cond: str = "cbn",
        shared_dim: int = 128,
        deep: bool = False,
        attn_res: int | None = None,
        spectral: bool = True,
    ) -> None:
        check_image(info, "biggan")
        super().__init__(z_dim, info.num_classes, "none")
        self.r0, k = upsampling_plan(info.resolution)
        self.deep = deep
        chans = channel_plan(width, k)
        self.shared = nn.Embedding(info.num_classes, shared_dim) if info.num_classes else None
        y_dim = shared_dim if self.shared is not None else 0
        # hierarchical z: one chunk for the input linear, one per resolution (BigGAN); the deep
        # variant gives every block all of z.
        self.chunks = [z_dim] if deep else split_sizes(z_dim, k + 1)
        cond_dim = (z_dim if deep else self.chunks[1]) + y_dim
        in_dim = z_dim + y_dim if deep else self.chunks[0]
        self.linear = sn(nn.Linear(in_dim, chans[0] * self.r0**2), spectral)
        make_norm = lambda c: ConditionalBatchNorm2d(c, cond_dim=cond_dim)  # noqa: E731
        self.blocks = nn.ModuleList()
        attn_at = attn_res if attn_res is not None else info.resolution // 2
        self.attn = nn.ModuleDict()
        res = self.r0
        for i in range(k):
            if deep:
                self.blocks.append(DeepBlockUp(chans[i], chans[i], make_norm, False, spectral))
                self.blocks.append(DeepBlockUp(chans[i], chans[i + 1], make_norm, True, spectral))
            else:
                self.blocks.append(ResBlockUp(chans[i], chans[i + 1], make_norm, spectral))
            res *= 2
            if res == attn_at:
                self.attn[str(len(self.blocks) - 1)] = SelfAttention(chans[i + 1], spectral)
        self.out_norm = nn.BatchNorm2d(chans[-1])
        self.out_conv = sn(nn.Conv2d(chans[-1], info.channels, 3, padding=1), spectral)
        self.width = chans[0]
        check_norm(norm)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.shared is not None:
            if y is None:
                raise ValueError("this generator is class-conditional: pass labels y")
            e = self.shared(y)
        else:
            e = z.new_zeros(z.shape[0], 0)
        if self.deep:
            zy = torch.cat([z, e], 1)
            h, conds = self.linear(zy), [zy] * len(self.blocks)
        else:
            zs = torch.split(z, self.chunks, dim=1)
            h, conds = self.linear(zs[0]), [torch.cat([zc, e], 1) for zc in zs[1:]]
        h = h.view(-1, self.width, self.r0, self.r0)
        for i, block in enumerate(self.blocks):
            # the deep variant has two blocks per resolution; both read that resolution's cond
            h = block(h, conds[i])
            if str(i) in self.attn:
                h = self.attn[str(i)](h)
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))


class BigGANDiscriminator(Discriminator):
    """(B, C, R, R) -> ReLU, global sum pool (B, c_last) -> logit + projection <embed(y), h>."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "spectral",
        cond: str = "projection",
        deep: bool = False,
        attn_res: int | None = None,
    ) -> None:
        check_image(info, "biggan")
        spectral = check_norm(norm) == "spectral"
        _, k = upsampling_plan(info.resolution)
        chans = [width * 2**i for i in range(k + 1)]
        super().__init__(chans[-1], info.num_classes, cond, spectral)  # type: ignore[arg-type]
        c_in = self.input_channels(info.channels, info.num_classes, self.cond)
        attn_at = attn_res if attn_res is not None else info.resolution // 2
        blocks: list[nn.Module] = []
        res = info.resolution
        if deep:
            # the deep D starts with a 3x3 conv to the first width (Fig. 16)
            blocks.append(sn(nn.Conv2d(c_in, chans[0], 3, padding=1), spectral))
            c_prev = chans[0]
            for i in range(k):
                blocks.append(DeepBlockDown(c_prev, chans[i + 1], True, spectral))
                blocks.append(DeepBlockDown(chans[i + 1], chans[i + 1], False, spectral))
                c_prev = chans[i + 1]
                res //= 2
                if res == attn_at:
                    blocks.append(SelfAttention(c_prev, spectral))
        else:
            c_prev = c_in
            for i in range(k):
                blocks.append(
                    ResBlockDown(c_prev, chans[i + 1], spectral, downsample=True, first=i == 0)
                )
                c_prev = chans[i + 1]
                res //= 2
                if res == attn_at:
                    blocks.append(SelfAttention(c_prev, spectral))
            blocks.append(ResBlockDown(c_prev, c_prev, spectral, downsample=False))
        self.body = _ResNetBody(blocks)


def _deep(cls):
    return lambda info, **kw: cls(info, deep=True, **kw)


NETS.add(
    "biggan",
    NetFamily(BigGANGenerator, BigGANDiscriminator, "BigGAN nets (Brock et al. 2019)"),
)
NETS.add(
    "biggan-deep",
    NetFamily(
        _deep(BigGANGenerator), _deep(BigGANDiscriminator), "BigGAN-deep nets (Brock et al. 2019)"
    ),
)
