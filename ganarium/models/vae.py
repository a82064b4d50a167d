"""VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes"): an encoder q(z | x) =
N(mu(x), diag sigma^2(x)) and a decoder p(x | z), trained together by maximising the ELBO
(Eq. 3) with the reparameterisation z = mu + sigma * eps (Sec. 2.4) and the closed-form Gaussian
KL (Appendix B). The non-adversarial baseline of "Are GANs Created Equal?" (Lucic et al. 2018),
which gives it the GANs' architecture: the encoder is the net family's discriminator body and
the decoder its generator (``net``; InfoGAN's nets by default, as there), whose final tanh is
read as Bernoulli logits (p = (1 + tanh a) / 2 = sigmoid(2a)); samples are the decoder's mean.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganarium.capabilities.encode import Encoder
from ganarium.capabilities.latent import Latent
from ganarium.data import DataInfo
from ganarium.errors import ConfigError, DataError
from ganarium.hparams import hp, size
from ganarium.latent import LatentSpec
from ganarium.models import LearningCheck, eval_mode, register
from ganarium.models._likelihood import LikelihoodRecipe, bernoulli_log_likelihood, gaussian_kl
from ganarium.nets import NETS
from ganarium.nets.encoders import Encoder as EncoderNet
from ganarium.nets.encoders import family_body, gaussian_sample, output_activation_removed
from ganarium.nets.own import is_own
from ganarium.nn.norms import NORMS

ELBO_CHECK: dict[str, Any] = dict(
    kind="elbo-fid",
    data="digits",
    data_options=dict(size=16),
    steps=1000,
    model=dict(g_width=32, d_width=32, z_dim=32),
    train=dict(batch_size=64),
    # measured (seed 0): test ELBO -167 -> -57 nats, FID 409 -> 44.3, 10 classes. The margin
    # alone would pass a decoder that ignores z (a mean image scores about -70); the FID bar
    # does not
    bars=dict(elbo_margin=60.0, fid_ratio=0.5),
)


@register(
    "vae",
    paper="Auto-Encoding Variational Bayes",
    year=2014,
    family="likelihood",
    data=("unconditional",),
    check=LearningCheck(**ELBO_CHECK),
)
class VAE(Latent, Encoder, LikelihoodRecipe):
    ema_nets = ("G", "E")

    @dataclass
    class Hparams(LikelihoodRecipe.Hparams):
        net: str = hp(
            "infogan",
            "net family: the decoder is its generator, the encoder its discriminator body",
            test=lambda v: v in NETS or is_own(v),  # own nets are refused in one line at build
            rule="use a net family (`ganarium list`), e.g. infogan or dcgan",
        )
        z_dim: int = size(64, "size of the latent z")
        g_width: int | None = size(
            None, "the decoder's (the family's generator) width (None: the family's default)"
        )
        d_width: int | None = size(
            None, "the encoder's (the family's discriminator) width (None: the family's default)"
        )
        g_norm: str = hp(
            "batch", "normalization in the decoder: batch, layer, instance or none", choices=NORMS
        )
        d_norm: str = hp(
            "batch", "normalization in the encoder: batch, layer, instance or none", choices=NORMS
        )

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        self.latent = LatentSpec(hp.z_dim)
        if info.kind != "image" or info.value_range != (-1.0, 1.0):
            raise DataError(f"vae models images in [-1, 1]; {info.name!r} is {info.kind} data")
        self.G = self.make_decoder(dataclasses.replace(info, num_classes=0))
        self.E = EncoderNet(family_body(info, hp.net, hp.d_width, hp.d_norm), 2 * hp.z_dim)

    def make_decoder(self, info: DataInfo) -> nn.Module:
        """The net family's generator with its final tanh removed (its output read as logits)."""
        hp = self.hp
        g_kw: dict[str, Any] = {"z_dim": hp.z_dim, "norm": hp.g_norm, "cond": "none"}
        if hp.g_width is not None:
            g_kw["width"] = hp.g_width
        G = NETS.get(hp.net).generator(info, **g_kw)
        if not output_activation_removed(G):
            raise ConfigError(
                f"vae needs a decoder ending in a tanh module; net={hp.net!r} has none"
            )
        return G

    def elbo_terms(self, x: Tensor, sampling: bool = False) -> tuple[Tensor, Tensor]:
        E, G = (self.net_for_sampling(n) for n in ("E", "G")) if sampling else (self.E, self.G)
        z, mean, log_var = gaussian_sample(E(x))
        return bernoulli_log_likelihood(2 * G(z), x), gaussian_kl(mean, log_var)

    # -- sampling and encoding -----------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        if z is None:
            z = self.latent.sample(n, self.device)
        return self.decode(z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The decoder's mean 2p - 1 = tanh(a) in [-1, 1], differentiable in z."""
        G = self.net_for_sampling("G")
        with eval_mode(G):
            return torch.tanh(G(z.to(self.device)))

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """The posterior means mu(x), (B, z_dim)."""
        E = self.net_for_sampling("E")
        with eval_mode(E):
            return E(x.to(self.device)).chunk(2, 1)[0]

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))
