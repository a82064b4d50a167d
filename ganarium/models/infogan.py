"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets"). G reads noise z plus latent codes c (one categorical,
some uniform continuous); a head Q on D's shared body recovers c from G(z, c), and both players
add lambda * L_I, the variational lower bound of I(c; G(z, c)) (Eq. 5-6):

    min_{G,Q} max_D V(D, G) - lambda L_I(G, Q),  L_I = E log Q(c | G(z, c)) + H(c).

Q is a softmax over the categorical code and a factored Gaussian (mean, log-std) over each
continuous code. No labels are used: the categorical code finds the classes by itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.capabilities.codes import Codes
from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.hparams import hp, loss_weight, override, positive, size, whole
from ganarium.latent import DISTRIBUTIONS, Code, LatentSpec
from ganarium.models import (
    Batch,
    LearningCheck,
    Phase,
    StepContext,
    StepOutput,
    eval_mode,
    register,
)
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.nets import NETS
from ganarium.techniques.losses import LOSSES


class CodedGenerator(nn.Module):
    """Wraps a generator so it reads (noise z, categorical code, continuous codes):
    (B, z_dim), (B,), (B, n_cont) -> images. ``z_dim`` is the noise size alone."""

    def __init__(
        self,
        base: nn.Module,
        noise_dim: int,
        n_categories: int,
        n_continuous: int,
        categorical_as_label: bool = False,
        code_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.base, self.code_scale = base, code_scale
        self.z_dim, self.n_categories, self.n_continuous = noise_dim, n_categories, n_continuous
        self.categorical_as_label = categorical_as_label

    def forward(self, z: Tensor, cat: Tensor, cont: Tensor) -> Tensor:
        if self.categorical_as_label:  # the base generator conditions on it like on a class
            return self.base(torch.cat([z, cont], 1), cat)
        one_hot = F.one_hot(cat, self.n_categories).to(z.dtype) * self.code_scale
        code = torch.cat([one_hot, cont], 1)
        return self.base(torch.cat([z, code], 1))


@register(
    "infogan",
    paper="InfoGAN: Interpretable Representation Learning by Information Maximizing GANs",
    year=2016,
    family="information",
    data=("unconditional", "labelled"),
    check=LearningCheck(
        **{
            **DIGITS_CHECK,
            "kind": "infogan-purity",
            "steps": 1000,
            "model": dict(g_width=32, d_width=32, z_dim=32, code_scale=2.0),
            "bars": dict(purity=0.6, fid_ratio=0.5, classes_covered=9),
        },
        reason="one-hot code scaled by 2 at G's input (code_scale): at the paper's 1 the 1000-step "
        "check reaches purity 0.615 / 0.597 (seeds 0 / 1), no margin over the bar",
    ),
)
class InfoGAN(Codes, AdversarialRecipe):
    auto_image_net = "infogan"  # the paper's MNIST nets (FC-1024 layers); any image net works

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        z_dim: int = override(62)
        lr_g: float = override(0.001)
        n_categories: int = whole(10, "values of the categorical code", minimum=2)
        n_continuous: int = whole(2, "number of continuous codes, each U(-1, 1)", minimum=0)
        info_weight: float = loss_weight(1.0, "lambda of the categorical code's information term")
        continuous_weight: float = loss_weight(
            0.1, "lambda of the continuous codes' information term"
        )
        q_width: int = size(128, "width of Q's hidden layer")
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

        def check(self) -> str | None:
            if self.conditional:
                return "infogan finds its categorical code without labels: drop model.conditional"
            return super().check()

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        unlabelled = dataclasses.replace(info, num_classes=0)
        as_label = hp.code_input != "concat"
        code_dim = hp.n_continuous if as_label else hp.n_categories + hp.n_continuous
        g_info = dataclasses.replace(info, num_classes=hp.n_categories) if as_label else unlabelled
        family = NETS.get(self.net_family_name(info))
        g_kw: dict[str, Any] = {"z_dim": hp.z_dim + code_dim, "norm": hp.g_norm, "cond": "none"}
        if as_label:
            g_kw["cond"] = hp.code_input
        if hp.g_width is not None:
            g_kw["width"] = hp.g_width
        base = family.generator(g_info, **g_kw)
        self.G = CodedGenerator(
            base, hp.z_dim, hp.n_categories, hp.n_continuous, as_label, hp.code_scale
        )
        self.D = self.make_discriminator(cond="none")
        # Q: FC-BN-lReLU-FC on D's features (Appendix C), outputs category logits, means, log-stds
        self.Q = nn.Sequential(
            nn.Linear(self.D.feature_dim, hp.q_width),
            nn.BatchNorm1d(hp.q_width),
            nn.LeakyReLU(0.2),
            nn.Linear(hp.q_width, hp.n_categories + 2 * hp.n_continuous),
        )
        self.adv = LOSSES.get(hp.loss)
        self.latent = self.make_latent()

    def make_latent(self) -> LatentSpec:
        """Noise z (``z_dist``) with the codes ``cat`` (categorical) and ``c1``, ``c2``, ...
        (continuous, U(-1, 1))."""
        k, m = self.hp.n_categories, self.hp.n_continuous
        codes = (
            Code("cat", "categorical", k),
            *(Code(f"c{i + 1}", "continuous", 1) for i in range(m)),
        )
        return LatentSpec(self.hp.z_dim, self.hp.z_dist, codes)

    def sample_codes(self, n: int, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """(categorical code (n,), continuous codes (n, n_continuous) in U(-1, 1), as in Sec. 6)."""
        cat = torch.randint(0, self.hp.n_categories, (n,), device=device)
        cont = torch.rand(n, self.hp.n_continuous, device=device) * 2 - 1
        return cat, cont

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.make_optimizer([*self.D.parameters(), *self.Q.parameters()], self.hp.lr_d),
        }

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D", repeat=self.hp.n_critic),
            Phase("G", self.g_loss, "G", real=False),
        ]

    # -- the information term --------------------------------------------------------------
    def info_loss(self, h: Tensor, cat: Tensor, cont: Tensor) -> tuple[Tensor, Tensor]:
        """-L_I up to the constant H(c): cross-entropy of the categorical code plus the Gaussian
        negative log-likelihood of the continuous codes. Returns (loss, categorical accuracy)."""
        q = self.Q(h)
        k, m = self.hp.n_categories, self.hp.n_continuous
        logits, mean, log_std = q[:, :k], q[:, k : k + m], q[:, k + m :].clamp(-4, 2)
        loss = self.hp.info_weight * F.cross_entropy(logits, cat)
        if m:
            nll = 0.5 * ((cont - mean) / log_std.exp()).pow(2) + log_std
            loss = loss + self.hp.continuous_weight * nll.sum(1).mean()
        return loss, (logits.argmax(1) == cat).float().mean()

    def _fake(self, n: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        cat, cont = self.sample_codes(n, device)
        return self.G(self.latent.sample(n, device), cat, cont), cat, cont

    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        with torch.no_grad():
            fake, cat, cont = self._fake(real.shape[0], real.device)
        h_real, h_fake = (
            self.D.features(self.augmenter(real)),
            self.D.features(self.augmenter(fake)),
        )
        d_real, d_fake = self.D.head(h_real).squeeze(1), self.D.head(h_fake).squeeze(1)
        self.augmenter.observe(d_real.detach())
        info, acc = self.info_loss(h_fake, cat, cont)
        return self.adv.d(d_real, d_fake) + info, {"info": info.detach(), "code_acc": acc}

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        fake, cat, cont = self._fake(batch["image"].shape[0], batch["image"].device)
        h = self.D.features(self.augmenter(fake))
        info, _ = self.info_loss(h, cat, cont)
        return self.adv.g(self.D.head(h).squeeze(1)) + info, {"info": info.detach()}

    # -- sampling --------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples; ``labels`` set the categorical code (not a class: the code's meaning is
        learned). Unset codes are drawn."""
        return self.generate_with_codes(n, {} if labels is None else {"cat": labels}, z)

    @torch.no_grad()
    def generate_with_codes(
        self, n: int, codes: dict[str, Tensor], z: Tensor | None = None
    ) -> Tensor:
        """n samples with the named codes set: ``cat`` (n,) categorical values, ``c1``, ``c2``
        ... (n,) continuous values. The codes not given are drawn, and so is z when not given."""
        unknown = set(codes) - set(self.code_names())
        if unknown:
            raise ConfigError(
                f"unknown code {sorted(unknown)[0]!r}: this model has {', '.join(self.code_names())}"
            )
        dev = self.device
        cat, cont = self.sample_codes(n, dev)
        z = self.latent.sample(n, dev) if z is None else z.to(dev)
        if "cat" in codes:
            cat = codes["cat"].to(dev)
        for i, name in enumerate(self.code_names()[1:]):
            if name in codes:
                cont[:, i] = codes[name].to(dev)
        return self._decode(z, cat, cont)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z, c) differentiable in the noise z, with the categorical code ``labels`` (cycling
        0..K-1 when none are given) and the continuous codes at 0."""
        cat = labels if labels is not None else torch.arange(len(z)) % self.hp.n_categories
        cont = torch.zeros(len(z), self.hp.n_continuous)
        return self._decode(z.to(self.device), cat.to(self.device), cont.to(self.device))

    def _decode(self, z: Tensor, cat: Tensor, cont: Tensor) -> Tensor:
        G = self.net_for_sampling("G")
        with eval_mode(G):
            return G(z, cat, cont)

    @torch.no_grad()
    def code_traversal(self, code: str = "c1", steps: int = 10) -> tuple[Tensor, int]:
        """The paper's Fig. 2 grid. 'c1', 'c2', ...: rows are categorical values, columns vary
        that continuous code over [-2, 2] with one noise vector and other codes at 0.
        'cat': rows are noise vectors, columns the categorical values. Returns (images, nrow)."""
        k, dev = self.hp.n_categories, self.device
        continuous = self.code_names()[1:]
        if code == "cat":
            z = self.latent.sample(k, dev).repeat_interleave(k, 0)
            zeros = {c: torch.zeros(k * k, device=dev) for c in continuous}
            cat = torch.arange(k, device=dev).repeat(k)
            return self.generate_with_codes(k * k, {"cat": cat, **zeros}, z), k
        if code not in continuous:
            raise ConfigError(
                f"unknown code {code!r}: this model has {', '.join(self.code_names())}"
            )
        z = self.latent.sample(1, dev).expand(k * steps, -1)
        codes = {c: torch.zeros(k * steps, device=dev) for c in continuous}
        codes[code] = torch.linspace(-2, 2, steps, device=dev).repeat(k)
        codes["cat"] = torch.arange(k, device=dev).repeat_interleave(steps)
        return self.generate_with_codes(k * steps, codes, z), steps
