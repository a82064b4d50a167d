"""InstaGAN's nets (Mo et al. 2019, "InstaGAN: Instance-aware Image-to-Image Translation",
Sec. 2.1, Fig. 2): an image and a set of instance masks are encoded separately, the masks'
features summed (so the nets are invariant to the order of the instances), and

    G: y' = g_GX([h_x, sum_i h_a_i]),   b'_i = g_GA([h_x, h_a_i, sum_j h_a_j])
    D: D(x, a) = g_D([h_x, sum_i h_a_i])

with h_x = f_GX(x) and h_a_i = f_GA(a_i) (f_DX, f_DA for D). The generator's encoders and
decoders are the two halves of CycleGAN's ResNet translator (``nets/translator.py``), D's
encoders the first layers of a PatchGAN and g_D its remaining layers (``nets/patchgan.py``).
Masks are images in [-1, 1] (one channel each); ``present`` (B, K) in {0, 1} says which of the K
mask slots hold an instance, and absent ones are left out of every sum.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.nets.translator import ResnetBlock
from ganarium.nn.norms import feature_norm
from ganarium.nn.padding import pad_to_multiple


def _encoder(c_in: int, width: int, downsamplings: int, blocks: int, norm: str) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(3),
        nn.Conv2d(c_in, width, 7, bias=norm == "none"),
        feature_norm(norm, width),
        nn.ReLU(True),
    ]
    c = width
    for _ in range(downsamplings):
        layers += [
            nn.Conv2d(c, 2 * c, 3, 2, 1, bias=norm == "none"),
            feature_norm(norm, 2 * c),
            nn.ReLU(True),
        ]
        c *= 2
    layers += [ResnetBlock(c, norm) for _ in range(blocks)]
    return nn.Sequential(*layers)


def _decoder(
    c_in: int, c: int, c_out: int, downsamplings: int, blocks: int, norm: str
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c, 1), feature_norm(norm, c), nn.ReLU(True)]
    layers += [ResnetBlock(c, norm) for _ in range(blocks)]
    for _ in range(downsamplings):
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=norm == "none"),
            feature_norm(norm, c // 2),
            nn.ReLU(True),
        ]
        c //= 2
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, c_out, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def presence(masks01: Tensor) -> Tensor:
    """(N, K, H, W) masks in {0, 1} -> (N, K) 1 where the slot holds an instance."""
    return (masks01.flatten(2).amax(2) > 0.5).float()


def union(masks11: Tensor) -> Tensor:
    """(N, K, H, W) masks in [-1, 1] -> (N, 1, H, W) their union in [0, 1]."""
    return masks11.add(1).div(2).amax(1, keepdim=True).clamp(0, 1)


def sequential_translation(
    G: nn.Module, x: Tensor, masks: Tensor, present: Tensor, per_step: int
) -> list[tuple]:
    """InstaGAN's sequential mini-batch translation (Sec. 2.3): ``per_step`` instances at a
    time, each iteration's output (detached) the next one's input. Masks in [-1, 1]. Returns
    (x_m, a_m, p_m, y_m, b_m, slot slice) per iteration."""
    steps, cur = [], x
    for start in range(0, masks.shape[1], per_step):
        sl = slice(start, start + per_step)
        y, b = G(cur, masks[:, sl], present[:, sl])
        steps.append((cur, masks[:, sl], present[:, sl], y, b, sl))
        cur = y.detach()
    return steps


@torch.no_grad()
def translate_instances_padded(
    G: nn.Module, x: Tensor, masks01: Tensor, slots: int, per_step: int
) -> tuple[Tensor, Tensor]:
    """``G`` in eval mode on images (N, C, H, W) of any size with K' <= ``slots`` masks in
    {0, 1}: padded to ``G.multiple`` (``nn.padding``), the masks to ``slots`` with empty ones,
    translated sequentially and cropped back -> (images, K' masks in [0, 1])."""
    h, w, k = *x.shape[-2:], masks01.shape[1]
    x, _ = pad_to_multiple(x, G.multiple)
    masks, _ = pad_to_multiple(masks01, G.multiple)
    masks = torch.cat([masks, masks.new_zeros(len(masks), slots - k, *masks.shape[-2:])], 1)
    was = G.training
    G.eval()
    try:
        steps = sequential_translation(G, x, masks * 2 - 1, presence(masks), per_step)
    finally:
        G.train(was)
    out = torch.cat([b for *_, b, _ in steps], 1).add(1).div(2)
    return steps[-1][3][..., :h, :w], out[:, :k, :h, :w]


def summed(features: Tensor, present: Tensor) -> Tensor:
    """(B, K, C, h, w) per-instance features, (B, K) presence -> (B, C, h, w) their sum."""
    return (features * present[:, :, None, None, None]).sum(1)


def per_instance(net: nn.Module, masks: Tensor) -> Tensor:
    """``net`` on each of (B, K, H, W) masks -> (B, K, C, h, w)."""
    b, k = masks.shape[:2]
    out = net(masks.reshape(b * k, 1, *masks.shape[-2:]))
    return out.view(b, k, *out.shape[1:])


class InstaGenerator(nn.Module):
    """(x (B, C, H, W), masks (B, K, H, W) in [-1, 1], present (B, K)) -> (y (B, C', H, W),
    masks' (B, K, H, W) in [-1, 1]); absent slots come back as -1 (no instance). H and W are
    multiples of ``multiple``."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        width: int = 64,
        blocks: int = 9,
        downsamplings: int = 2,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        enc_blocks, dec_blocks = blocks // 2, blocks - blocks // 2
        c = width * 2**downsamplings
        self.multiple = 2**downsamplings
        self.f_x = _encoder(c_in, width, downsamplings, enc_blocks, norm)
        self.f_a = _encoder(1, width, downsamplings, enc_blocks, norm)
        self.g_x = _decoder(2 * c, c, c_out, downsamplings, dec_blocks, norm)
        self.g_a = _decoder(3 * c, c, 1, downsamplings, dec_blocks, norm)

    def forward(self, x: Tensor, masks: Tensor, present: Tensor) -> tuple[Tensor, Tensor]:
        h_x = self.f_x(x)
        h_a = per_instance(self.f_a, masks)
        h_sum = summed(h_a, present)
        y = self.g_x(torch.cat([h_x, h_sum], 1))
        k = masks.shape[1]
        joint = torch.cat(
            [h_x[:, None].expand(-1, k, -1, -1, -1), h_a, h_sum[:, None].expand(-1, k, -1, -1, -1)],
            2,
        )
        out = self.g_a(joint.flatten(0, 1)).view(masks.shape)
        out = torch.where(present[:, :, None, None] > 0, out, torch.full_like(out, -1.0))
        return y, out


class InstaDiscriminator(nn.Module):
    """(x (B, C, H, W), masks (B, K, H, W), present (B, K)) -> patch logits (B, 1, h, w):
    f_DX and f_DA are PatchGAN's first ``layers`` stride-2 convs, g_D its stride-1 layers."""

    def __init__(
        self, channels: int, width: int = 64, layers: int = 3, norm: str = "instance"
    ) -> None:
        super().__init__()

        def encoder(c_in: int) -> nn.Sequential:
            mods: list[nn.Module] = [nn.Conv2d(c_in, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            c = width
            for i in range(1, layers):
                c_next = width * min(2**i, 8)
                mods += [
                    nn.Conv2d(c, c_next, 4, 2, 1),
                    feature_norm(norm, c_next),
                    nn.LeakyReLU(0.2, True),
                ]
                c = c_next
            self.c = c
            return nn.Sequential(*mods)

        self.f_x, self.f_a = encoder(channels), encoder(1)
        c = self.c
        c_next = width * min(2**layers, 8)
        self.g = nn.Sequential(
            nn.Conv2d(2 * c, c_next, 4, 1, 1),
            feature_norm(norm, c_next),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(c_next, 1, 4, 1, 1),
        )

    def forward(self, x: Tensor, masks: Tensor, present: Tensor) -> Tensor:
        h_sum = summed(per_instance(self.f_a, masks), present)
        return self.g(torch.cat([self.f_x(x), h_sum], 1))
