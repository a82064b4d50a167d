"""The base of recipes whose generator reads latent codes beside the noise z (InfoGAN, Chen et al.
2016): the codes' keys, a G that reads them (``nn.coded.CodedGenerator``), and sampling with
named codes and traversal grids (the ``Codes`` capability). The recipe adds what learns the
codes' meaning (InfoGAN's Q).

Not a recipe module (the leading underscore keeps the registry from importing it as one).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ganarium.capabilities.codes import Codes
from ganarium.hparams import hp, positive, whole
from ganarium.latent import DISTRIBUTIONS, Code, LatentSpec
from ganarium.models import eval_mode
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.nets import NETS
from ganarium.nn.coded import CodedGenerator


class CodedRecipe(Codes, AdversarialRecipe):
    """Noise z with one categorical code ``cat`` of ``n_categories`` values and continuous codes
    ``c1``, ``c2``, ... in U(-1, 1), drawn before z."""

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        n_categories: int = whole(10, "values of the categorical code", minimum=2)
        n_continuous: int = whole(2, "number of continuous codes, each U(-1, 1)", minimum=0)
        code_scale: float = positive(1.0, "magnitude of the one-hot code at G's input")
        code_input: str = hp(
            "concat",
            "how the categorical code enters G: concat, cbn or hadamard",
            choices=("concat", "cbn", "hadamard"),
        )
        z_dist: str = hp(
            "normal",
            "distribution of the noise z: normal (N(0, I)) or uniform (U(-1, 1), as the official code draws it)",
            choices=DISTRIBUTIONS,
        )

    def make_coded_generator(self) -> CodedGenerator:
        """G of the net family reading z and the codes; with ``code_input`` cbn or hadamard the
        categorical code conditions it as a class label would."""
        hp = self.hp
        as_label = hp.code_input != "concat"
        code_dim = hp.n_continuous if as_label else hp.n_categories + hp.n_continuous
        classes = hp.n_categories if as_label else 0
        kw: dict[str, Any] = {"z_dim": hp.z_dim + code_dim, "norm": hp.g_norm}
        kw["cond"] = hp.code_input if as_label else "none"
        if hp.g_width is not None:
            kw["width"] = hp.g_width
        family = NETS.get(self.net_family_name(self.info))
        base = family.generator(dataclasses.replace(self.info, num_classes=classes), **kw)
        categories = (hp.n_categories,)
        return CodedGenerator(base, hp.z_dim, categories, hp.n_continuous, as_label, hp.code_scale)

    def make_latent(self) -> LatentSpec:
        continuous = (Code(f"c{i + 1}", "continuous", 1) for i in range(self.hp.n_continuous))
        codes = (Code("cat", "categorical", self.hp.n_categories), *continuous)
        return LatentSpec(self.hp.z_dim, self.hp.z_dist, codes)

    def sample_codes(self, n: int, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """(categorical (n, 1), continuous (n, n_continuous)) codes, as in the paper's Sec. 6."""
        return self.latent.sample_codes(n, device)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples; ``labels`` set the categorical code (not a class: the code's meaning is
        learned). Unset codes are drawn."""
        return self.generate_with_codes(n, {} if labels is None else {"cat": labels}, z)

    @torch.no_grad()
    def generate_with_codes(
        self, n: int, codes: dict[str, Tensor], z: Tensor | None = None
    ) -> Tensor:
        """n samples with the named codes set ((n,) values each); the codes not given are
        drawn, and so is z when not given."""
        return self.decode_codes(*self.latent.with_codes(n, codes, self.device, z))

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z, c) differentiable in the noise z, with the categorical code ``labels`` (cycling
        0..K-1 when none are given) and the continuous codes at 0."""
        cat, cont = self.latent.centre_codes(len(z), self.device)
        if labels is not None:
            cat[:, 0] = labels.to(self.device)
        return self.decode_codes(z.to(self.device), cat, cont)

    def decode_codes(self, z: Tensor, cat: Tensor, cont: Tensor) -> Tensor:
        """G(z, codes) with the sampling generator in eval mode."""
        G = self.net_for_sampling("G")
        with eval_mode(G):
            return G(z, cat, cont)

    @torch.no_grad()
    def code_traversal(self, code: str = "c1", steps: int = 10) -> tuple[Tensor, int]:
        """The paper's Fig. 2 grid (``LatentSpec.traversal``): (images, images per row)."""
        z, codes, per_row = self.latent.traversal(code, steps, self.device)
        return self.generate_with_codes(len(z), codes, z), per_row
