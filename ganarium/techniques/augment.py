"""Augmentation of what a discriminator sees, a switch every recipe accepts (``model.augment``).

``make_augmenter(hp)`` builds the recipe's ``augmenter``, an ``nn.Module`` a recipe applies to
real and fake images alike before its discriminator: ``augmenter(x) -> x'`` (differentiable, so
G's gradient passes through), and ``augmenter.observe(d_real)`` after each D step, the feedback
an adaptive augmenter uses to set its probability. Its state (an adaptive probability) lives in
buffers, so checkpoints carry it. ``augment='none'`` (the default) is the identity.

- ``diffaugment``: DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient
  GAN Training"): colour (brightness, saturation, contrast), translation (1/8 of the image,
  zero padding) and cutout (a square of half the image set to 0), every op applied to every
  image with fresh random parameters, the same policy for real and fake (Sec. 3, Fig. 4).
- ``ada``: adaptive discriminator augmentation (Karras et al. 2020, "Training Generative
  Adversarial Networks with Limited Data"): each transform of the pipeline is applied to each
  image with probability p; every ``ada_interval`` D steps the overfitting heuristic
  r_t = E[sign(D(x_real))] (Eq. 1) moves p by sign(r_t - target) * (images in the interval) /
  ``ada_rampup`` (p could go 0 -> 1 in ``ada_rampup`` images), clamped to [0, 1). The pipeline
  is the paper's 'bgc' (Sec. 2.3, App. B): blit (x-flip, 90-degree rotations, integer
  translation), geometric (isotropic and anisotropic scaling, rotation, fractional translation)
  and colour (brightness, contrast, luma flip, saturation), each op its own Bernoulli(p).
  Geometric ops use one affine resampling with reflection padding, as the paper does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.errors import ConfigError
from ganarium.hparams import Hparams, fraction, hp, whole

AUGMENTS = ("none", "diffaugment", "ada")


@dataclass
class AugmentHparams(Hparams):
    """The augmentation keys every recipe accepts (the base of every recipe's ``Hparams``)."""

    augment: str = hp(
        "none",
        "augmentation of what D sees, real and fake alike: none, diffaugment "
        "(Zhao et al. 2020) or ada (Karras et al. 2020)",
        choices=AUGMENTS,
    )
    augment_policy: str = hp(
        "color,translation,cutout", "DiffAugment's ops, comma-separated: color, translation, cutout"
    )
    augment_translation: float = hp(
        0.125,
        "DiffAugment's largest shift, a fraction of the image size in [0, 0.5] (paper: 1/8)",
        test=lambda v: 0 <= v <= 0.5,
        rule="a fraction in [0, 0.5]",
    )
    augment_cutout: float = fraction(
        0.5, "DiffAugment's cutout square side, a fraction of the image size in [0, 1] (paper: 1/2)"
    )
    ada_target: float = fraction(
        0.6, "ADA's target for r_t = E[sign(D(real))]: p rises while r_t is above it"
    )
    ada_interval: int = whole(4, "ADA adjusts p every this many D steps")
    ada_rampup: int = whole(
        500_000, "ADA's speed: images over which p could move from 0 to 1 (paper: 500k)"
    )
    ada_p: float = fraction(0.0, "ADA's initial augmentation probability")


AUGMENT_DEFAULTS: dict[str, Any] = AugmentHparams.defaults()
DIFF_OPS = ("color", "translation", "cutout")


class Identity(nn.Module):
    """No augmentation."""

    def forward(self, x: Tensor) -> Tensor:
        return x

    def observe(self, d_real: Tensor) -> None:
        """Feedback from D's outputs on real images (used by adaptive augmenters)."""

    def learning_state(self) -> dict[str, float]:
        """Scalars worth logging (ADA's p); none here."""
        return {}


# -- DiffAugment ---------------------------------------------------------------------------
def _per_image(x: Tensor, *rest: int) -> Tensor:
    """U[0, 1) of shape (B, *rest) on x's device and dtype."""
    return torch.rand(x.shape[0], *rest, device=x.device, dtype=x.dtype)


def diff_color(x: Tensor) -> Tensor:
    """Brightness + U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5), per image."""
    x = x + (_per_image(x, 1, 1, 1) - 0.5)
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (_per_image(x, 1, 1, 1) * 2) + mean
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (_per_image(x, 1, 1, 1) + 0.5) + mean


def diff_translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ``ratio`` of its size in x and y, filling with zeros."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(
        torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )
    # read each output pixel from (y - ty, x - tx) of the padded image (index 0 is padding)
    sy = (gy[None] - ty + 1).clamp(0, h + 1)
    sx = (gx[None] - tx + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1))
    flat = padded.flatten(2)  # (B, C, (h+2)(w+2))
    index = (sy * (w + 2) + sx).flatten(1)[:, None].expand(-1, x.shape[1], -1)
    return flat.gather(2, index).view_as(x)


def diff_cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a square of ``ratio`` of the image's size at a random place in each image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device) - cw // 2
    gy = torch.arange(h, device=x.device)[None, :, None]
    gx = torch.arange(w, device=x.device)[None, None, :]
    inside = (gy >= top) & (gy < top + ch) & (gx >= left) & (gx < left + cw)
    return x * (~inside).to(x.dtype)[:, None]


class DiffAugment(nn.Module):
    """x (B, C, H, W) -> the policy's ops applied in order, differentiably (Zhao et al. 2020)."""

    def __init__(
        self,
        policy: str = "color,translation,cutout",
        translation: float = 0.125,
        cutout: float = 0.5,
    ) -> None:
        super().__init__()
        self.ops = parse_policy(policy)
        if not 0.0 <= translation <= 0.5 or not 0.0 <= cutout <= 1.0:
            raise ConfigError(
                f"DiffAugment needs 0 <= augment_translation <= 0.5 (got {translation}) and "
                f"0 <= augment_cutout <= 1 (got {cutout})"
            )
        self.translation, self.cutout = float(translation), float(cutout)

    def forward(self, x: Tensor) -> Tensor:
        for op in self.ops:
            if op == "translation":
                x = diff_translation(x, self.translation)
            elif op == "cutout":
                x = diff_cutout(x, self.cutout)
            else:
                x = diff_color(x)
        return x

    def observe(self, d_real: Tensor) -> None:
        """DiffAugment is not adaptive."""

    def learning_state(self) -> dict[str, float]:
        return {}


def parse_policy(policy: str) -> tuple[str, ...]:
    ops = tuple(p.strip() for p in str(policy).split(",") if p.strip())
    bad = [op for op in ops if op not in DIFF_OPS]
    if bad or not ops:
        raise ConfigError(
            f"model.augment_policy={policy!r}: use a comma-separated list of {', '.join(DIFF_OPS)}"
        )
    return ops


# -- ADA -------------------------------------------------------------------------------------
class AdaptiveAugment(nn.Module):
    """The 'bgc' pipeline with an adaptive probability p (Karras et al. 2020).

    ``p`` and the running sums of sign(D(real)) are buffers, so a checkpoint carries them and a
    resumed run adjusts p exactly as the uninterrupted one would.
    """

    def __init__(
        self, target: float = 0.6, interval: int = 4, rampup: float = 500_000, p: float = 0.0
    ) -> None:
        super().__init__()
        if not 0.0 < target < 1.0 or interval < 1 or rampup <= 0 or not 0.0 <= p < 1.0:
            raise ConfigError(
                f"ADA needs 0 < ada_target < 1 (got {target}), ada_interval >= 1 (got "
                f"{interval}), ada_rampup > 0 (got {rampup}) and 0 <= ada_p < 1 (got {p})"
            )
        self.target, self.interval, self.rampup = float(target), int(interval), float(rampup)
        self.register_buffer("p", torch.tensor(float(p)))
        # sum of sign(D(real)), images and D steps since p was last adjusted
        self.register_buffer("sign_sum", torch.zeros(()))
        self.register_buffer("seen", torch.zeros(()))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.register_buffer("r_t", torch.zeros(()))

    @torch.no_grad()
    def observe(self, d_real: Tensor) -> None:
        """Accumulate sign(D(real)); every ``interval`` calls move p towards r_t = target."""
        d = d_real.detach().float().flatten()
        self.sign_sum += d.sign().sum()
        self.seen += d.numel()
        self.calls += 1
        if int(self.calls) % self.interval == 0:
            self.r_t.copy_(self.sign_sum / self.seen.clamp_min(1))
            step = (self.seen / self.rampup) * torch.sign(self.r_t - self.target)
            self.p.copy_((self.p + step).clamp(0.0, 1.0 - 1e-6))
            self.sign_sum.zero_()
            self.seen.zero_()

    def learning_state(self) -> dict[str, float]:
        return {"ada_p": float(self.p), "ada_r_t": float(self.r_t)}

    def forward(self, x: Tensor) -> Tensor:
        p = float(self.p)
        if p <= 0.0:
            return x
        x = self._blit(x, p)
        x = self._geometric(x, p)
        return self._color(x, p)

    @staticmethod
    def _chosen(x: Tensor, p: float) -> Tensor:
        """(B,) bool: images an op with probability p applies to."""
        return torch.rand(x.shape[0], device=x.device) < p

    def _blit(self, x: Tensor, p: float) -> Tensor:
        b, _, h, w = x.shape
        flip = self._chosen(x, p)[:, None, None, None]
        x = torch.where(flip, x.flip(3), x)
        if h == w:  # a rotation by k * 90 degrees, k uniform in 0..3
            k = torch.randint(0, 4, (b,), device=x.device) * self._chosen(x, p)
            turns = torch.stack([torch.rot90(x, i, (2, 3)) for i in range(4)])  # (4, B, C, H, W)
            x = turns[k, torch.arange(b, device=x.device)]
        # integer translation by up to 1/8 of the size, with reflection padding
        shift = (torch.rand(b, 2, device=x.device) * 2 - 1) * 0.125
        shift = shift * self._chosen(x, p)[:, None]
        ty, tx = (shift[:, 0] * h).round().long(), (shift[:, 1] * w).round().long()
        pad = max(1, math.ceil(0.125 * max(h, w)))
        padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        rows = torch.arange(h, device=x.device)[None] - ty[:, None] + pad
        cols = torch.arange(w, device=x.device)[None] - tx[:, None] + pad
        idx = rows[:, :, None] * (w + 2 * pad) + cols[:, None, :]
        flat = padded.flatten(2)
        return flat.gather(2, idx.flatten(1)[:, None].expand(-1, x.shape[1], -1)).view_as(x)

    def _geometric(self, x: Tensor, p: float) -> Tensor:
        b = x.shape[0]
        dev, dt = x.device, x.dtype
        eye = torch.eye(2, device=dev, dtype=dt).expand(b, 2, 2)

        def when(m: Tensor) -> Tensor:  # (B, 2, 2) for the chosen images, identity for the rest
            return torch.where(self._chosen(x, p)[:, None, None], m, eye)

        def rotation(angle: Tensor) -> Tensor:
            c, s = angle.cos(), angle.sin()
            return torch.stack([torch.stack([c, -s], 1), torch.stack([s, c], 1)], 1)

        iso = torch.exp2(torch.randn(b, device=dev, dtype=dt) * 0.2)  # lognormal(0, 0.2 ln 2)
        m = when(torch.diag_embed(torch.stack([iso, iso], 1)))
        # pre-rotation, anisotropic scaling, post-rotation; p_rot = 1 - sqrt(1 - p) each (App. B)
        p_rot = 1 - math.sqrt(max(0.0, 1 - p))
        theta = (torch.rand(b, device=dev, dtype=dt) * 2 - 1) * math.pi
        pre = torch.where((torch.rand(b, device=dev) < p_rot)[:, None, None], rotation(theta), eye)
        aniso = torch.exp2(torch.randn(b, device=dev, dtype=dt) * 0.2)
        m = m @ pre @ when(torch.diag_embed(torch.stack([aniso, 1 / aniso], 1)))
        theta = (torch.rand(b, device=dev, dtype=dt) * 2 - 1) * math.pi
        post = torch.where((torch.rand(b, device=dev) < p_rot)[:, None, None], rotation(theta), eye)
        m = m @ post
        t = torch.randn(b, 2, device=dev, dtype=dt) * 0.125 * 2  # in [-1, 1] grid units
        t = t * self._chosen(x, p)[:, None].to(dt)
        if torch.equal(m, eye) and not t.any():
            return x
        theta_grid = torch.cat([m, t[:, :, None]], 2)
        grid = F.affine_grid(theta_grid, list(x.shape), align_corners=False)
        return F.grid_sample(
            x, grid, mode="bilinear", padding_mode="reflection", align_corners=False
        )

    def _color(self, x: Tensor, p: float) -> Tensor:
        b = x.shape[0]

        def per(values: Tensor, neutral: float) -> Tensor:
            return torch.where(self._chosen(x, p), values, torch.full_like(values, neutral))[
                :, None, None, None
            ]

        x = x + per(torch.randn(b, device=x.device, dtype=x.dtype) * 0.2, 0.0)  # brightness
        mean = x.mean((1, 2, 3), keepdim=True)
        contrast = torch.exp2(torch.randn(b, device=x.device, dtype=x.dtype) * 0.5)
        x = (x - mean) * per(contrast, 1.0) + mean
        luma = x.mean(1, keepdim=True)  # luma flip: invert the brightness about mid-grey
        flip = per(torch.ones(b, device=x.device, dtype=x.dtype), 0.0)
        x = x - 2 * flip * luma
        if x.shape[1] > 1:
            luma = x.mean(1, keepdim=True)
            sat = torch.exp2(torch.randn(b, device=x.device, dtype=x.dtype))
            x = (x - luma) * per(sat, 1.0) + luma
        return x


def make_augmenter(hp: Any) -> nn.Module:
    """The augmenter named by ``hp.augment``."""
    name = getattr(hp, "augment", "none")
    if name == "none":
        return Identity()
    if name == "diffaugment":
        return DiffAugment(
            getattr(hp, "augment_policy", AUGMENT_DEFAULTS["augment_policy"]),
            getattr(hp, "augment_translation", AUGMENT_DEFAULTS["augment_translation"]),
            getattr(hp, "augment_cutout", AUGMENT_DEFAULTS["augment_cutout"]),
        )
    if name == "ada":
        return AdaptiveAugment(
            getattr(hp, "ada_target", 0.6),
            getattr(hp, "ada_interval", 4),
            getattr(hp, "ada_rampup", 500_000),
            getattr(hp, "ada_p", 0.0),
        )
    raise ConfigError(f"model.augment={name!r}: use one of {', '.join(AUGMENTS)}")
