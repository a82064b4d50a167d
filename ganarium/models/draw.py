"""DRAW (Gregor et al. 2015, "DRAW: A Recurrent Neural Network For Image Generation"): a
sequential variational auto-encoder that draws an image on a canvas over T steps with
read/write attention (the network and its equations are in ``ganarium.nets.draw``). It is
trained by maximising the ELBO, the reconstruction term log p(x | c_T) plus the per-step KL
terms summed over t (Eq. 9-12), here with the same data, metrics and CLI as the GANs.

``canvas_steps(n)`` shows each sample's canvas after every step (Fig. 7 of the paper); a sample
is the final canvas's mean, 2 sigmoid(c_T) - 1 in the data's [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganarium.capabilities.canvas import Canvas
from ganarium.data import DataInfo
from ganarium.errors import DataError
from ganarium.hparams import size, whole
from ganarium.models import Batch, LearningCheck, Preview, eval_mode, register
from ganarium.models._likelihood import LikelihoodRecipe, bernoulli_log_likelihood, gaussian_kl
from ganarium.models.vae import ELBO_CHECK
from ganarium.nets.draw import DRAW as DRAWNet


@register(
    "draw",
    paper="DRAW: A Recurrent Neural Network For Image Generation",
    year=2015,
    family="likelihood",
    data=("unconditional",),
    check=LearningCheck(
        **{
            **ELBO_CHECK,
            "steps": 3000,
            "model": dict(steps=8, hidden=128, z_dim=16, read_n=0),
            "reason": "slow (3000 steps: at 1000 the KL is 3.6 nats and samples cover 3 classes, "
            "FID 269); T = 8 steps and 128 LSTM units, not the paper's 64 and 256, to fit a CPU",
            "slow": True,
        }
    ),
)
class DRAW(Canvas, LikelihoodRecipe):
    @dataclass
    class Hparams(LikelihoodRecipe.Hparams):
        steps: int = whole(10, "T, the number of drawing steps")
        z_dim: int = size(16, "size of each step's latent z_t")
        hidden: int = size(256, "units of the encoder and decoder LSTMs")
        read_n: int = whole(
            0, "N of the read attention grid (0: read the whole image; the paper: 2)", minimum=0
        )
        write_n: int = whole(
            5, "N of the write attention grid (0: write the whole canvas)", minimum=0
        )

        def check(self) -> str | None:
            if 1 in (self.read_n, self.write_n):
                return "read_n and write_n must be 0 (no attention) or >= 2"
            return super().check()

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        if info.kind != "image" or info.value_range != (-1.0, 1.0):
            raise DataError(f"draw models images in [-1, 1]; {info.name!r} is {info.kind} data")
        self.G = DRAWNet(tuple(info.shape), hp.steps, hp.z_dim, hp.hidden, hp.read_n, hp.write_n)

    def elbo_terms(self, x: Tensor, sampling: bool = False) -> tuple[Tensor, Tensor]:
        net = self.net_for_sampling("G") if sampling else self.G
        canvas, mean, log_var = net((x + 1) / 2)
        return bernoulli_log_likelihood(canvas, x), gaussian_kl(mean, log_var)

    # -- sampling ------------------------------------------------------------------------------
    def _canvases(self, n: int) -> Tensor:
        G = self.net_for_sampling("G")
        z = torch.randn(n, self.hp.steps, self.hp.z_dim, device=self.device)  # z_t per step
        with eval_mode(G):
            return 2 * torch.sigmoid(G.sample(z)) - 1  # (n, T, C, H, W)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        return self._canvases(n)[:, -1]

    @torch.no_grad()
    def canvas_steps(self, n: int) -> tuple[Tensor, int]:
        """n samples drawn step by step: (n * T images, T), each row one sample's canvas."""
        return self._canvases(n).flatten(0, 1), self.hp.steps

    def preview(self, n: int, examples: Batch | None = None) -> Preview:
        rows = max(1, n // self.hp.steps)
        images, steps = self.canvas_steps(rows)
        return Preview(images.float().cpu(), steps)
