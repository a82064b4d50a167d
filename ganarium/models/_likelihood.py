"""What the likelihood baselines (VAE, DRAW) share: one optimizer, one "ELBO" phase, and the
evidence lower bound in nats per image,

    ELBO(x) = E_q(z|x) log p(x | z) - KL(q(z | x) || p(z))      (Kingma & Welling 2014, Eq. 3)

with a Bernoulli likelihood on pixel intensities in [0, 1] (the data's [-1, 1] mapped there; the
usual choice for MNIST, which treats grey levels as probabilities) and a standard normal prior.

Not a recipe module (the leading underscore keeps the registry from importing it as one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.capabilities.likelihood import Likelihood
from ganarium.capabilities.signals import Signals
from ganarium.hparams import adam_betas, learning_rate, loss_weight
from ganarium.models import Batch, Phase, Recipe, StepContext, StepOutput, eval_mode


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    """log p(x | logits) summed per sample: logits (B, ...) of p, x (B, ...) in [-1, 1]."""
    target = ((x + 1) / 2).clamp(0, 1)
    nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return -nll.flatten(1).sum(1)


def gaussian_kl(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) summed per sample: (B, D) -> (B,)."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).flatten(1).sum(1)


class LikelihoodRecipe(Likelihood, Signals, Recipe):
    """A model trained by maximising its ELBO with Adam(``lr``, ``betas``) in one phase; the
    training batch's ELBO is its progress signal. It has no discriminator, so it refuses
    ``model.augment``."""

    @dataclass
    class Hparams(Recipe.Hparams):
        lr: float = learning_rate(0.001, "Adam's learning rate")
        betas: tuple[float, float] = adam_betas((0.9, 0.999), "Adam's (beta1, beta2)")
        kl_weight: float = loss_weight(
            1.0, "weight of the KL term (1: the ELBO; beta-VAE uses more)"
        )

        def check(self) -> str | None:
            if self.augment != "none":
                return (
                    f"augment={self.augment} augments what a discriminator sees and this "
                    "likelihood model has none: drop model.augment"
                )
            return super().check()

    _last_elbo: Tensor | None = None  # the last training batch's ELBO

    def elbo_terms(self, x: Tensor, sampling: bool = False) -> tuple[Tensor, Tensor]:
        """(log p(x | z), KL) per sample, (B,) each, with one z drawn from q(z | x); with
        ``sampling`` through the nets ``generate`` uses (the EMA copies when kept)."""
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        params = [p for net in self.nets().values() for p in net.parameters()]
        return {"model": torch.optim.Adam(params, self.hp.lr, betas=tuple(self.hp.betas))}

    def phases(self) -> list[Phase]:
        return [Phase("ELBO", self.elbo_loss, "model")]

    def elbo_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        log_lik, kl = self.elbo_terms(batch["image"])
        elbo = (log_lik - kl).mean().detach()
        self._last_elbo = elbo
        loss = -(log_lik - self.hp.kl_weight * kl).mean()
        logs = {"elbo": elbo, "log_likelihood": log_lik.mean().detach(), "kl": kl.mean().detach()}
        return loss, logs

    def signal_names(self) -> tuple[str, ...]:
        return ("elbo",)

    def learning_state(self) -> dict[str, float]:
        """The training batch's ELBO (nats per image), the progress signal."""
        return {} if self._last_elbo is None else {"elbo": float(self._last_elbo)}

    @torch.no_grad()
    def evidence_lower_bound(self, x: Tensor, samples: int = 1) -> Tensor:
        """The ELBO of each image x (B, C, H, W) in nats, averaged over ``samples`` draws of z,
        with the sampling nets in eval mode. (B,)"""
        x = x.to(self.device)
        total = torch.zeros(len(x), device=self.device)
        with eval_mode(self):
            for _ in range(samples):
                log_lik, kl = self.elbo_terms(x, sampling=True)
                total += log_lik - kl
        return (total / samples).cpu()
