"""DRAW (Gregor et al. 2015, "DRAW: A Recurrent Neural Network For Image Generation"): a
sequential variational auto-encoder that draws an image on a canvas over T steps with
read/write attention (the network and its equations are in ``ganarium.nets.draw``). It is
trained by maximising the ELBO, the reconstruction term log p(x | c_T) plus the per-step KL
terms summed over t (Eq. 9-12), here with the same data, metrics and CLI as the GANs.

``canvas_steps(n)`` shows each sample's canvas after every step (Fig. 7 of the paper); a sample
is the final canvas's mean, 2 sigmoid(c_T) - 1 in the data's [-1, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import Capabilities, LearningCheck, Preview, register
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
class DRAW(LikelihoodRecipe):
    defaults = {
        **LikelihoodRecipe.defaults,
        "steps": 10,
        "z_dim": 16,
        "hidden": 256,
        # the paper reads 2 x 2 glimpses over T = 64 steps; over 8 to 10 steps so few pixels
        # carry too little to start from (measured: KL 5e-4 nats, the posterior collapses), so
        # the default reads the whole image and error image, as DRAW without read attention
        "read_n": 0,
        "write_n": 5,
    }
    hparam_help = {
        "steps": "T, the number of drawing steps",
        "z_dim": "size of each step's latent z_t",
        "hidden": "units of the encoder and decoder LSTMs",
        "read_n": "N of the read attention grid (0: read the whole image; the paper: 2)",
        "write_n": "N of the write attention grid (0: write the whole canvas)",
    }

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        if info.kind != "image" or info.value_range != (-1.0, 1.0):
            raise ConfigError(f"draw models images in [-1, 1]; {info.name!r} is {info.kind} data")
        if hp.steps < 1 or min(hp.read_n, hp.write_n) < 0 or 1 in (hp.read_n, hp.write_n):
            raise ConfigError(
                "draw needs steps >= 1 and read_n, write_n of 0 (no attention) or >= 2"
            )
        self.G = DRAWNet(tuple(info.shape), hp.steps, hp.z_dim, hp.hidden, hp.read_n, hp.write_n)

    def capabilities(self) -> Capabilities:
        return Capabilities(canvas=True, signals=("elbo",))

    def elbo_terms(self, x: Tensor, sampling: bool = False) -> tuple[Tensor, Tensor]:
        net = self.net_for_sampling("G") if sampling else self.G
        canvas, mean, log_var = net((x + 1) / 2)
        return bernoulli_log_likelihood(canvas, x), gaussian_kl(mean, log_var)

    # -- sampling ------------------------------------------------------------------------------
    def _canvases(self, n: int) -> Tensor:
        G = self.net_for_sampling("G")
        was = G.training
        G.eval()
        try:
            z = torch.randn(n, self.hp.steps, self.hp.z_dim, device=self.device)
            return 2 * torch.sigmoid(G.sample(z)) - 1  # (n, T, C, H, W)
        finally:
            G.train(was)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        return self._canvases(n)[:, -1]

    @torch.no_grad()
    def canvas_steps(self, n: int) -> tuple[Tensor, int]:
        """n samples drawn step by step: (n * T images, T), each row one sample's canvas."""
        return self._canvases(n).flatten(0, 1), self.hp.steps

    def preview(self, n: int, examples=None) -> Preview:
        rows = max(1, n // self.hp.steps)
        images, steps = self.canvas_steps(rows)
        return Preview(images.float().cpu(), steps)
