"""BigGAN and BigGAN-deep at the authors' channel plans (Brock et al. 2019, "Large Scale GAN
Training for High Fidelity Natural Image Synthesis", Appendix B; the tables of BigGAN-PyTorch).

``width`` is the paper's ``ch``: each block's channels are ``ch`` times the multiplier of the
table for the output resolution (32, 64, 128, 256 or 512). Compared with the compact nets of
``ganarium.nets.biggan`` these follow the published code layer for layer: a 4x4 start, capped
channel multipliers, the CIFAR plan of a constant 4*ch, attention at named resolutions with
max-pooled keys and values, spectral norm on the conditional-BN linears, the label embedding
first in every condition vector, and the authors' initialisations (``init``).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.nets import Discriminator, Generator, check_image
from ganarium.nets.biggan import DeepBlockDown, DeepBlockUp
from ganarium.nets.resnet import _ResNetBody
from ganarium.nn.attention import SelfAttention
from ganarium.nn.cond_bn import ConditionalBatchNorm2d
from ganarium.nn.norms import check_norm, sn
from ganarium.nn.resblocks import ResBlockDown, ResBlockUp

BOTTOM = 4  # G starts at 4x4 at every resolution

# Generator: channel multipliers at the input of the first up-block, then after each up-block.
G_PLAN: dict[int, tuple[int, ...]] = {
    32: (4, 4, 4, 4),
    64: (16, 16, 8, 4, 2),
    128: (16, 16, 8, 4, 2, 1),
    256: (16, 16, 8, 8, 4, 2, 1),
    512: (16, 16, 8, 8, 4, 2, 1, 1),
}
# BigGAN discriminator: (output multiplier, downsamples?) of each residual block. 512 is the
# paper's table (the authors' PyTorch code stops at 256).
D_PLAN: dict[int, tuple[tuple[int, bool], ...]] = {
    32: ((4, True), (4, True), (4, False), (4, False)),
    64: ((1, True), (2, True), (4, True), (8, True), (16, False)),
    128: ((1, True), (2, True), (4, True), (8, True), (16, True), (16, False)),
    256: ((1, True), (2, True), (4, True), (8, True), (8, True), (16, True), (16, False)),
    512: (
        (1, True),
        (1, True),
        (2, True),
        (4, True),
        (8, True),
        (8, True),
        (16, True),
        (16, False),
    ),  # fmt: skip
}
# BigGAN-deep discriminator: the stem conv's multiplier, then (output multiplier, downsamples?)
# of each stage of ``depth`` bottleneck blocks (the first block of a stage changes channels and
# downsamples). 512 mirrors the generator, as the paper describes D.
DEEP_D_PLAN: dict[int, tuple[int, tuple[tuple[int, bool], ...]]] = {
    32: (4, ((4, True), (4, True), (4, False))),
    64: (1, ((2, True), (4, True), (8, True), (16, True))),
    128: (1, ((2, True), (4, True), (8, True), (16, True), (16, True))),
    256: (1, ((2, True), (4, True), (8, True), (8, True), (16, True), (16, True))),
    512: (1, ((1, True), (2, True), (4, True), (8, True), (8, True), (16, True), (16, True))),
}
INITS = ("ortho", "N02", "xavier", "glorot", "default")


def check_plan(resolution: int) -> None:
    if resolution not in G_PLAN:
        raise ConfigError(
            f"arch=official has channel plans for resolutions {sorted(G_PLAN)}, not {resolution}: "
            "use data.size=32, 64, 128, 256 or 512, or arch=compact"
        )


def attention_set(attn: int | Iterable[int] | None) -> frozenset[int]:
    """The resolutions that get a self-attention block: None -> {64} (the authors' default),
    0 -> none, an int or a list of ints -> those."""
    if attn is None:
        return frozenset({64})
    values = [attn] if isinstance(attn, int) else list(attn)
    return frozenset(int(v) for v in values if int(v) > 0)


@torch.no_grad()
def init_weights(net: nn.Module, style: str) -> None:
    """Initialise every conv, linear and embedding weight of ``net`` as the authors' code does
    (``G_init`` / ``D_init``): 'ortho' orthogonal, 'N02' N(0, 0.02), 'xavier' (or 'glorot')
    Xavier-uniform; 'default' keeps PyTorch's. Biases keep PyTorch's initialisation. A
    spectral-normed layer gets its spectral norm anew from the initialised weight, so its power
    iteration starts from that weight's singular vectors (an eval-mode forward of a fresh net
    divides by the right sigma); on the meta device its raw weight is set in place."""
    if style not in INITS:
        raise ConfigError(f"unknown init {style!r}: use one of {', '.join(INITS)}")
    if style == "default":
        return
    for m in list(net.modules()):
        if not isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
            continue
        spectral = parametrize.is_parametrized(m, "weight")
        if spectral and m.parametrizations.weight.original.is_meta:
            _init_tensor(m.parametrizations.weight.original, style)
            continue
        if spectral:
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
        _init_tensor(m.weight, style)
        if spectral:
            sn(m)


def _init_tensor(w: torch.Tensor, style: str) -> None:
    if style == "ortho":
        nn.init.orthogonal_(w)
    elif style == "N02":
        nn.init.normal_(w, 0.0, 0.02)
    else:
        nn.init.xavier_uniform_(w)


class OfficialBigGANGenerator(Generator):
    """z (B, z_dim) [, y (B,)] -> (B, C, R, R) in [-1, 1].

    ``shared`` embeds labels once (``shared_dim``) for every conditional BN, whose gain and bias
    are spectral-normed linears of [shared(y), z chunk] (``hier``: z split into one chunk for
    the input linear and one per block; z_dim is rounded down to a multiple of the chunks) or of
    shared(y) alone; without ``shared`` each conditional BN has per-class gain and bias tables.
    ``deep`` uses BigGAN-deep's bottleneck blocks, ``depth`` per resolution, each conditioned on
    [shared(y), z]. Unconditional data gives plain batch norms (or, with ``hier``, BNs
    conditioned on the z chunks).
    """

    def __init__(
        self,
        info: DataInfo,
        z_dim: int = 120,
        width: int = 64,
        shared_dim: int = 128,
        shared: bool = True,
        hier: bool = True,
        deep: bool = False,
        depth: int = 2,
        attn: int | Iterable[int] | None = None,
        init: str = "ortho",
        spectral: bool = True,
    ) -> None:
        check_image(info, "biggan")
        check_plan(info.resolution)
        plan = [m * width for m in G_PLAN[info.resolution]]
        n_blocks, k = len(plan) - 1, info.num_classes
        if deep and not hier:
            raise ConfigError("BigGAN-deep conditions every block on [shared(y), z]: set hier")
        if hier and k and not shared:
            raise ConfigError("hier needs the shared embedding: set g_shared=true or hier=false")
        self.chunk = z_dim // (n_blocks + 1) if hier and not deep else 0
        if hier and not deep:
            if self.chunk < 1:
                raise ConfigError(f"z_dim={z_dim} is too small for {n_blocks + 1} chunks")
            z_dim = self.chunk * (n_blocks + 1)
        super().__init__(z_dim, k, "none")
        self.deep, self.hier = deep, hier
        y_dim = shared_dim if k and shared else 0
        self.shared = nn.Embedding(k, shared_dim) if y_dim else None
        if deep:
            in_dim, cond_dim = z_dim + y_dim, z_dim + y_dim
        elif hier:
            in_dim, cond_dim = self.chunk, self.chunk + y_dim
        else:
            in_dim, cond_dim = z_dim, y_dim
        self.linear = sn(nn.Linear(in_dim, plan[0] * BOTTOM**2), spectral)
        self.width0 = plan[0]

        def make_norm(c: int) -> nn.Module:
            if cond_dim:
                return ConditionalBatchNorm2d(c, cond_dim=cond_dim, spectral=spectral)
            if k:
                return ConditionalBatchNorm2d(c, num_classes=k)
            return nn.BatchNorm2d(c)

        attn_at = attention_set(attn)
        self.blocks, self.attn = nn.ModuleList(), nn.ModuleDict()
        res = BOTTOM
        for c_in, c_out in zip(plan[:-1], plan[1:]):
            if deep:
                for _ in range(depth - 1):
                    self.blocks.append(DeepBlockUp(c_in, c_in, make_norm, False, spectral))
                self.blocks.append(DeepBlockUp(c_in, c_out, make_norm, True, spectral))
            else:
                self.blocks.append(ResBlockUp(c_in, c_out, make_norm, spectral))
            res *= 2
            if res in attn_at:
                self.attn[str(len(self.blocks) - 1)] = SelfAttention(c_out, spectral, pooled=True)
        self.out_norm = nn.BatchNorm2d(plan[-1])
        self.out_conv = sn(nn.Conv2d(plan[-1], info.channels, 3, padding=1), spectral)
        init_weights(self, init)

    def conditions(self, z: torch.Tensor, y: torch.Tensor | None) -> tuple[torch.Tensor, list]:
        """(the input linear's input, one condition per block)."""
        if self.num_classes and y is None:
            raise ValueError("this generator is class-conditional: pass labels y")
        e = self.shared(y) if self.shared is not None else None
        if self.deep:
            zy = z if e is None else torch.cat([e, z], 1)
            return zy, [zy] * len(self.blocks)
        if self.hier:
            zs = torch.split(z, self.chunk, dim=1)
            return zs[0], [zc if e is None else torch.cat([e, zc], 1) for zc in zs[1:]]
        return z, [e if e is not None else y] * len(self.blocks)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z_in, conds = self.conditions(z, y)
        h = self.linear(z_in).view(-1, self.width0, BOTTOM, BOTTOM)
        for i, block in enumerate(self.blocks):
            h = block(h, conds[i])
            if str(i) in self.attn:
                h = self.attn[str(i)](h)
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))


class OfficialBigGANDiscriminator(Discriminator):
    """(B, C, R, R) [, y (B,)] -> (B,) logits: residual blocks (BigGAN's wide blocks, or
    BigGAN-deep's bottleneck stages of ``depth`` after a 3x3 stem), ReLU, global sum pooling,
    a linear logit plus the projection <embed(y), h>."""

    def __init__(
        self,
        info: DataInfo,
        width: int = 64,
        norm: str = "spectral",
        cond: str = "projection",
        deep: bool = False,
        depth: int = 2,
        attn: int | Iterable[int] | None = None,
        init: str = "ortho",
    ) -> None:
        check_image(info, "biggan")
        check_plan(info.resolution)
        spectral = check_norm(norm) == "spectral"
        stem, stages = DEEP_D_PLAN[info.resolution] if deep else (0, D_PLAN[info.resolution])
        super().__init__(stages[-1][0] * width, info.num_classes, cond, spectral)  # type: ignore[arg-type]
        attn_at = attention_set(attn)
        c_prev = self.input_channels(info.channels, info.num_classes, self.cond)
        res = info.resolution
        blocks: list[nn.Module] = []
        if deep:
            blocks.append(sn(nn.Conv2d(c_prev, stem * width, 3, padding=1), spectral))
            c_prev = stem * width
        for i, (mult, down) in enumerate(stages):
            c_out = mult * width
            if deep:
                blocks.append(DeepBlockDown(c_prev, c_out, down, spectral))
                blocks += [DeepBlockDown(c_out, c_out, False, spectral) for _ in range(depth - 1)]
            else:
                blocks.append(ResBlockDown(c_prev, c_out, spectral, downsample=down, first=i == 0))
            c_prev, res = c_out, res // 2 if down else res
            if res in attn_at:
                blocks.append(SelfAttention(c_out, spectral, pooled=True))
        self.body = _ResNetBody(blocks)
        init_weights(self, init)
