"""What every paired translator shares (pix2pix, pix2pixHD, the context encoder, SRGAN,
colorization): refusing unpaired data, a G and a D with Adam, and the input | output | target
preview; translation itself is the ``TranslatorRecipe``'s (``_translator.py``).

A subclass builds ``self.G`` and ``self.D`` in ``build_nets`` and may override ``net_input``
(what G reads from an A image), ``net_output`` (G's raw output -> the B image) and
``multiple`` / ``min_side`` / ``scale`` (what input sides G needs, how much it enlarges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.data.paired import side_shapes
from ganarium.errors import DataError
from ganarium.hparams import adam_betas, hp, learning_rate, size, whole
from ganarium.models import Batch
from ganarium.models._translator import TranslatorRecipe
from ganarium.nn.norms import NORMS


class PairedTranslator(TranslatorRecipe):
    """Base of the paired translators: G maps A to B; D judges B (or the pair)."""

    @dataclass
    class Hparams(TranslatorRecipe.Hparams):
        width: int = size(64, "G's channel width (the papers' ngf = 64)")
        d_width: int = size(64, "D's channel width (ndf = 64)")
        d_layers: int = whole(
            3,
            "D's stride-2 layers (PatchGAN: 3 gives 70x70 patches; fewer for small images)",
            minimum=0,
        )
        norm: str = hp("batch", "normalization in G and D: batch, instance or none", choices=NORMS)
        lr_g: float = learning_rate(0.0002, "G's learning rate")
        lr_d: float = learning_rate(0.0002, "D's learning rate")
        betas: tuple[float, float] = adam_betas((0.5, 0.999), "Adam's (beta1, beta2)")

    directions = ("AtoB",)
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

    def translator(self, direction: str) -> nn.Module:
        return self.net_for_sampling("G")

    @property
    def multiple(self) -> int:
        return int(self.G.multiple)

    def preview_columns(self, examples: Batch, n: int) -> list[Tensor]:
        """``n`` rows of input | output | target (inputs shown at the output's size)."""
        a, b = examples["image"][:n], examples["image_b"][:n]
        return [a, self.translate(a), b]
