"""Triple-GAN (Li et al. 2017, "Triple Generative Adversarial Nets"): three players. A classifier C
models p_c(y|x), a conditional generator G models p_g(x|y), and D tells pairs (x, y) of the data
distribution from pairs of C (real x, C's label) and of G (G(z, y), y). The game (Sec. 3):

    min_{C,G} max_D  E_{p(x,y)} log D(x,y) + alpha E_{p_c} log(1 - D(x,y))
                     + (1 - alpha) E_{p_g} log(1 - D(G(z,y),y)) + R_L + alpha_P R_P

with R_L the cross-entropy of C on labelled data and R_P the pseudo-discriminative loss, the
cross-entropy of C on G's pairs (Sec. 3.2). As in the authors' MNIST code: C's adversarial term
uses its argmax label weighted by its confidence; D's real pairs also include unlabelled data
labelled by C (``pseudo_real``); R_P starts after ``pseudo_start`` steps. C's own terms (entropy,
class balance, and the mean teacher of the authors' 2021 TPAMI version; ``consistency_weight=0``
gives the 2017 C) are those of ``models/_classifier_player.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.data import DataInfo
from ganarium.hparams import fraction, hp, loss_weight, override, switch, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._classifier_player import ClassifierPlayer
from ganarium.models._labelled import SEMI_SUPERVISED_CHECK
from ganarium.techniques.losses import bce_real


@register(
    "triplegan",
    paper="Triple Generative Adversarial Nets",
    year=2017,
    family="semi-supervised",
    data=("labelled",),
    check=LearningCheck(
        **{
            **SEMI_SUPERVISED_CHECK,
            "kind": "semi-supervised-conditional",
            "steps": 2000,  # C still gains after step 1000; the labels-only baseline does not
            "bars": dict(margin=0.05, fid_ratio=0.5, class_accuracy=0.85),
        },
        slow=True,
    ),
)
class TripleGAN(ClassifierPlayer):
    @dataclass
    class Hparams(ClassifierPlayer.Hparams):
        net: str = override("dcgan")
        d_cond: str = override("concat")
        conditional: bool = override(True)
        alpha: float = fraction(0.5, "share of C's pairs among D's fake pairs")
        pseudo_weight: float = loss_weight(0.1, "alpha_P, the weight of R_P")
        pseudo_start: int = whole(300, "step at which R_P (C on G's pairs) switches on", minimum=0)
        pseudo_real: bool = switch(True, "C-labelled unlabelled pairs join D's real pairs")
        c_pairs: str = hp(
            "argmax",
            "how C's pairs are scored: argmax (C's label, confidence-weighted) or expectation",
            choices=("argmax", "expectation"),
        )

        def check(self) -> str | None:
            if self.loss != "non-saturating":
                return (
                    f"triplegan plays the paper's log-loss game; loss={self.loss!r} is not "
                    "supported: drop model.loss"
                )
            return super().check()

    def build(self, info: DataInfo) -> None:
        super().build(info)
        self.build_classifier()

    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_loss, "D", repeat=self.hp.n_critic),
            Phase("C", self.c_loss, "C", after=self._update_teacher),
            Phase("G", self.g_loss, "G", real=False, images=False),
        ]

    def _generated(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        y = torch.randint(self.info.num_classes, (n,), device=device)
        return self.G(self.latent.sample(n, device), y), y

    def _c_pair_loss(self, x: Tensor, logits: Tensor, fake: bool) -> Tensor:
        """E_{y ~ p_c(y|x)} of -log(1 - D(x, y)) (``fake``, D's side) or -log D(x, y) (C's side).

        ``expectation`` sums over all K labels weighted by p_c; ``argmax`` scores C's label alone,
        weighted by C's confidence on C's side (the authors' cheaper approximation)."""
        sign = 1.0 if fake else -1.0
        p = logits.softmax(1)
        if self.hp.c_pairs == "expectation":
            b, k = p.shape
            y_all = torch.arange(k, device=x.device).repeat(b)
            d = self.D(self.augmenter(x.repeat_interleave(k, 0)), y_all).view(b, k)
            return (p * F.softplus(sign * d)).sum(1).mean()
        p_max, y_c = p.max(1)
        d = self.D(self.augmenter(x), y_c)
        return F.softplus(sign * d).mean() if fake else (p_max * F.softplus(sign * d)).mean()

    # -- losses ----------------------------------------------------------------------------------
    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x_u = batch["image"]
        labelled = self.labelled_pairs(batch)
        real = [labelled] if labelled is not None else []
        if self.hp.pseudo_real:  # one half of the batch as real pairs, the other as C's pairs
            x_r, x_u = x_u.chunk(2)
            with torch.no_grad():
                real.append((x_r, self.C(x_r).argmax(1)))
        with torch.no_grad():
            logits_c = self.C(x_u)
            x_g, y_g = self._generated(x_u.shape[0], x_u.device)
        a = self.hp.alpha
        fake_c = self._c_pair_loss(x_u, logits_c, fake=True)
        fake_g = F.softplus(self.D(self.augmenter(x_g), y_g)).mean()
        loss, logs = a * fake_c + (1 - a) * fake_g, {"fake_c": fake_c.detach()}
        if real:
            x_real = self.augmenter(torch.cat([x for x, _ in real]))
            d_real = self.D(x_real, torch.cat([y for _, y in real]))
            self.augmenter.observe(d_real.detach())
            loss = loss + bce_real(d_real)
            logs["d_real"] = d_real.detach().mean()
        return loss, logs

    def c_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x_u = batch["image"]
        logits_u = self.C(x_u)
        fool = self._c_pair_loss(x_u, logits_u, fake=False)
        loss, logs = self.classifier_loss(self.hp.alpha * fool, batch, logits_u, ctx.step)
        logs = {"fool": fool.detach(), **logs}
        if self.hp.pseudo_weight > 0 and ctx.step >= self.hp.pseudo_start:
            # G's pairs as the sampler draws them (the EMA of G when kept, in eval mode): those
            # teach C far better than the training G's batch-statistics samples
            y_g = torch.randint(self.info.num_classes, (x_u.shape[0],), device=x_u.device)
            pseudo = F.cross_entropy(self.C(self.generate(len(y_g), labels=y_g)), y_g)  # R_P
            loss = loss + self.hp.pseudo_weight * pseudo
            logs["pseudo"] = pseudo.detach()
        return loss, logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        x_g, y_g = self._generated(batch["image"].shape[0], batch["image"].device)
        return (1 - self.hp.alpha) * bce_real(self.D(self.augmenter(x_g), y_g)), {}
