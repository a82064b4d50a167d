"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets"). G reads noise z plus latent codes c (one categorical,
some uniform continuous; ``models/_coded.py``); a head Q on D's shared body recovers c from
G(z, c), and both players add lambda * L_I, the variational lower bound of I(c; G(z, c)):

    min_{G,Q} max_D V(D, G) - lambda L_I(G, Q),  L_I = E log Q(c | G(z, c)) + H(c)  (Eq. 5-6).

Q is a softmax over the categorical code and a factored Gaussian (mean, log-std) over each
continuous code. No labels are used: the categorical code finds the classes by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.hparams import loss_weight, override, size
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._coded import CodedRecipe
from ganarium.models.dcgan import DIGITS_CHECK
from ganarium.techniques.losses import LOSSES


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
class InfoGAN(CodedRecipe):
    auto_image_net = "infogan"  # the paper's MNIST nets (FC-1024 layers); any image net works

    @dataclass
    class Hparams(CodedRecipe.Hparams):
        z_dim: int = override(62)
        lr_g: float = override(0.001)
        info_weight: float = loss_weight(1.0, "lambda of the categorical code's information term")
        continuous_weight: float = loss_weight(
            0.1, "lambda of the continuous codes' information term"
        )
        q_width: int = size(128, "width of Q's hidden layer")

        def check(self) -> str | None:
            if self.conditional:
                return "infogan finds its categorical code without labels: drop model.conditional"
            return super().check()

    def build(self, info: DataInfo) -> None:
        hp = self.hp
        self.G = self.make_coded_generator()
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

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.make_optimizer([*self.D.parameters(), *self.Q.parameters()], self.hp.lr_d),
        }

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D", repeat=self.hp.n_critic),
            Phase("G", self.g_loss, "G", real=False, images=False),
        ]

    # -- the information term --------------------------------------------------------------
    def info_loss(self, h: Tensor, cat: Tensor, cont: Tensor) -> tuple[Tensor, Tensor]:
        """-L_I up to the constant H(c): cross-entropy of the categorical code (n, 1) plus the
        Gaussian negative log-likelihood of the continuous codes. Returns (loss, categorical
        accuracy)."""
        q, cat = self.Q(h), cat[:, 0]
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
