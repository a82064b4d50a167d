"""What every paired translator shares (pix2pix, pix2pixHD, the context encoder, SRGAN,
colorization): refusing unpaired data, a G and a D with Adam, ``translate`` for images of any
size and of either channel count, ``generate`` from a few kept inputs, and the
input | output | target preview.

A subclass builds ``self.G`` and ``self.D`` in ``build_nets`` and may override ``net_input``
(what G reads from an A image), ``net_output`` (G's raw output -> the B image) and
``multiple`` / ``scale`` (what input sides G needs, how much it enlarges).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.nn import functional as F

from ganarium.data import DataInfo
from ganarium.data.paired import side_shapes
from ganarium.data.transforms import to_channels
from ganarium.errors import DataError
from ganarium.models import Batch, Capabilities, CapabilityError, Preview, Recipe
from ganarium.nn.padding import run_padded

KEPT_INPUTS = 8  # training inputs kept (in the state dict) so generate(n) has something to map


class PairedTranslator(Recipe):
    """Base of the paired translators: G maps A to B; D judges B (or the pair)."""

    defaults: ClassVar[dict[str, Any]] = dict(
        **Recipe.defaults,
        width=64,
        d_width=64,
        d_layers=3,
        norm="batch",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
    )
    hparam_help: ClassVar[dict[str, str]] = dict(
        width="G's channel width (the papers' ngf = 64)",
        d_width="D's channel width (ndf = 64)",
        d_layers="D's stride-2 layers (PatchGAN: 3 gives 70x70 patches; fewer for small images)",
        norm="normalization in G and D: batch, instance or none",
        lr_g="G's learning rate",
        lr_d="D's learning rate",
        betas="Adam's (beta1, beta2)",
    )
    # what the recipe needs from the data; ``same_channels``: A and B must match
    same_channels: ClassVar[bool] = False

    def build(self, info: DataInfo) -> None:
        if info.pairing != "paired":
            raise DataError(
                f"recipe {self.name!r} learns from aligned pairs, but {info.name!r} is "
                f"{'unpaired' if info.pairing == 'unpaired' else 'one-domain'} data: use a paired "
                "dataset (edges2digits, digits-sr, digits-inpaint, gray2colour, aligned)"
            )
        self.shape_a, self.shape_b = side_shapes(info)
        if self.same_channels and self.shape_a[0] != self.shape_b[0]:
            raise DataError(
                f"recipe {self.name!r} needs A and B of the same channel count, but "
                f"{info.name!r} has {self.shape_a[0]} (A) and {self.shape_b[0]} (B): convert "
                "one side (data.channels=...) or use pix2pix"
            )
        self.register_buffer("kept", torch.zeros(KEPT_INPUTS, *self.shape_a))
        self.register_buffer("kept_n", torch.zeros((), dtype=torch.long))
        self.build_nets(info)

    def build_nets(self, info: DataInfo) -> None:
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = tuple(self.hp.betas)
        opts = {"G": torch.optim.Adam(self.G.parameters(), lr=self.hp.lr_g, betas=betas)}
        if self.trains_d():
            opts["D"] = torch.optim.Adam(self.D.parameters(), lr=self.hp.lr_d, betas=betas)
        return opts

    def trains_d(self) -> bool:
        """Whether D has a phase (pix2pix's L1-only ablation has none)."""
        return True

    def capabilities(self) -> Capabilities:
        return Capabilities(translate=("AtoB",))

    # -- what G reads and writes (overridden by colorization and the context encoder) --------
    @property
    def multiple(self) -> int:
        """What G's input sides must be divisible by."""
        return int(self.G.multiple)

    @property
    def min_side(self) -> int:
        """The smallest input side G takes (inputs are padded up to it)."""
        return self.multiple

    @property
    def scale(self) -> int:
        """Output side / input side (SR: the upscaling factor)."""
        return 1

    def as_input(self, x: Tensor) -> Tensor:
        """A user's image (N, 1 or 3, H, W) -> an A image of the data's channel count."""
        return to_channels(x, self.shape_a[0])

    def net_input(self, a: Tensor) -> Tensor:
        return a

    def net_output(self, a: Tensor, out: Tensor) -> Tensor:
        return out

    def keep(self, a: Tensor) -> None:
        """Keep the first training batch's inputs for ``generate`` (no host sync)."""
        n = min(KEPT_INPUTS, len(a))
        idx = torch.arange(KEPT_INPUTS, device=a.device) % n
        first = self.kept_n == 0
        self.kept.copy_(torch.where(first, a[idx].detach().to(self.kept), self.kept))
        self.kept_n.copy_(torch.where(first, torch.full_like(self.kept_n, n), self.kept_n))

    # -- translation -------------------------------------------------------------------------
    def check_direction(self, direction: str) -> None:
        offered = self.capabilities().translate
        if direction not in offered:
            raise CapabilityError(
                f"recipe {self.name!r} translates {', '.join(offered)}, not {direction!r}: "
                f"use --direction {offered[0]}"
            )

    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "AtoB") -> Tensor:
        """A images (N, 1 or 3, H, W) in [-1, 1], any H and W -> B images (N, C_B, H * scale,
        W * scale) by the sampling G in eval mode; gray / RGB inputs are converted to A's
        channel count, sides padded to what G needs and cropped back."""
        self.check_direction(direction)
        if x.dim() != 4:
            raise DataError(f"translate takes (N, C, H, W) images, got shape {tuple(x.shape)}")
        a = self.as_input(x.to(self.device).float())
        G = self.net_for_sampling("G")
        try:
            out = self.run_translator(G, self.net_input(a))
        except (torch.OutOfMemoryError, RuntimeError) as e:
            if "memory" not in str(e).lower():
                raise
            raise DataError(
                f"{len(a)} image(s) of {a.shape[-2]}x{a.shape[-1]} do not fit in memory for "
                f"recipe {self.name!r} on {self.device}: translate fewer or smaller images"
            ) from None
        return self.net_output(a, out).clamp(-1, 1)

    def run_translator(self, G: torch.nn.Module, x: Tensor) -> Tensor:
        """G on inputs of any size (padded and cropped back), in eval mode (running statistics,
        no dropout), its mode restored. pix2pix's ``test_mode=train`` overrides this."""
        was = G.training
        G.eval()
        try:
            return run_padded(G, x, self.multiple, self.scale, self.min_side)
        finally:
            G.train(was)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """Translations of ``n`` inputs cycled from the first training batch (zeros before any
        training): a translator has no noise to sample, so this shows what it does to data."""
        return self.translate(self.kept[torch.arange(n, device=self.kept.device) % KEPT_INPUTS])

    def preview(self, n: int, examples: Batch | None = None) -> Preview | None:
        """``n`` rows of input | output | target from the held-out ``examples`` (inputs shown at
        the output's size and channel count)."""
        if examples is None:
            return super().preview(n, examples)
        a, b = examples["image"][:n], examples["image_b"][:n]
        out = self.translate(a).to(b)
        shown = to_channels(a.to(b), b.shape[1])
        if shown.shape[-2:] != b.shape[-2:]:
            shown = F.interpolate(shown, size=b.shape[-2:], mode="nearest")
        grid = torch.stack([shown, out, b], 1).flatten(0, 1)
        return Preview(grid.float().cpu(), 3)
