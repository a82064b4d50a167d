"""What every translation recipe shares, paired (``_paired.py``) or two-domain
(``_twodomain.py``): ``translate(x, direction)`` for images of any size, gray or RGB (padded to
what the net needs, cropped back), a one-line refusal of ``generate(n)`` (a translator samples
no noise: its outputs need inputs), and the preview of the held-out examples the Trainer
passes, in columns (``column_preview``).

A subclass names the net of each direction (``translator``) and may change what that net
reads (``net_input``), what its raw output becomes (``net_output``), the input sides it takes
(``multiple``, ``min_side``), how much it enlarges (``scale``) and the preview's columns.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from ganarium.capabilities.translate import Translator
from ganarium.data.transforms import to_channels
from ganarium.errors import DataError
from ganarium.models import Batch, CapabilityError, Preview, Recipe, eval_mode
from ganarium.models._previews import column_preview
from ganarium.nn.padding import run_padded

# adversarial losses that score a PatchGAN's or a critic's outputs alone (no real scores in G's)
PATCH_LOSSES = ("non-saturating", "minimax", "least-squares", "hinge", "wasserstein")


class TranslatorRecipe(Translator, Recipe):
    """Base of the translators: images of side A (``shape_a``) to side B (``shape_b``), and back
    where ``directions`` holds BtoA. Subclasses set ``shape_a`` and ``shape_b`` in ``build``."""

    directions: ClassVar[tuple[str, ...]] = ("AtoB",)
    # the keys a preview's examples must hold
    preview_keys: ClassVar[tuple[str, ...]] = ("image", "image_b")
    shape_a: tuple[int, ...]
    shape_b: tuple[int, ...]

    # -- to override -----------------------------------------------------------------------
    def translator(self, direction: str) -> nn.Module:
        """The net that translates ``direction`` (its EMA copy when the Trainer keeps one)."""
        raise NotImplementedError

    def preview_columns(self, examples: Batch, n: int) -> list[Tensor]:
        """The preview's columns for (the first rows of) held-out ``examples``."""
        raise NotImplementedError

    @property
    def multiple(self) -> int:
        """What the net's input sides must be divisible by."""
        return int(self.translator(self.directions[0]).multiple)

    @property
    def min_side(self) -> int:
        """The smallest input side the net takes (inputs are padded up to it)."""
        return self.multiple

    @property
    def scale(self) -> int:
        """Output side / input side (super-resolution: the upscaling factor)."""
        return 1

    def as_input(self, x: Tensor, direction: str) -> Tensor:
        """A user's images (N, 1 or 3, H, W) -> images of the source side's channel count."""
        side = self.shape_a if direction == "AtoB" else self.shape_b
        return to_channels(x, side[0])

    def net_input(self, x: Tensor) -> Tensor:
        """What the net reads of source images."""
        return x

    def net_output(self, x: Tensor, out: Tensor) -> Tensor:
        """The net's raw output for sources ``x`` -> the translated images."""
        return out

    def run_translator(self, net: nn.Module, x: Tensor) -> Tensor:
        """``net`` on inputs of any size (padded and cropped back), in eval mode (running
        statistics, no dropout), its mode restored."""
        with eval_mode(net):
            return run_padded(net, x, self.multiple, self.scale, self.min_side)

    # -- translation -----------------------------------------------------------------------
    def check_direction(self, direction: str) -> None:
        if direction not in self.directions:
            raise CapabilityError(
                f"recipe {self.name!r} translates {', '.join(self.directions)}, not "
                f"{direction!r}: use --direction {self.directions[0]}"
            )

    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "AtoB") -> Tensor:
        """Images (N, 1 or 3, H, W) of the direction's source side in [-1, 1], any H and W ->
        their translations (N, C, H * scale, W * scale) by the sampling net in eval mode."""
        self.check_direction(direction)
        if x.dim() != 4:
            raise DataError(f"translate takes (N, C, H, W) images, got shape {tuple(x.shape)}")
        net = self.translator(direction)
        source = self.as_input(x.to(self.device).float(), direction)
        try:
            out = self.run_translator(net, self.net_input(source))
        except (torch.OutOfMemoryError, RuntimeError) as e:
            if "memory" not in str(e).lower():
                raise
            raise DataError(
                f"{len(x)} image(s) of {x.shape[-2]}x{x.shape[-1]} do not fit in memory for "
                f"recipe {self.name!r} on {self.device}: translate fewer or smaller images"
            ) from None
        return self.net_output(source, out).clamp(-1, 1)

    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """Refused: a translator has no noise to sample from, only inputs to map."""
        raise CapabilityError(
            f"recipe {self.name!r} translates images: use translate(x, direction) or "
            "`ganarium sample RUN` for held-out translations"
        )

    @torch.no_grad()
    def preview(self, n: int, examples: Batch | None = None) -> Preview:
        """Columns of translations of the held-out ``examples`` (the Trainer's fixed batch)."""
        missing = [k for k in self.preview_keys if examples is None or k not in examples]
        if missing:
            raise CapabilityError(
                f"recipe {self.name!r} previews translations of examples: pass preview(n, "
                f"examples) a batch with {', '.join(repr(k) for k in self.preview_keys)}"
            )
        return column_preview(self.preview_columns(examples, n))
