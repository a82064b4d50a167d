"""Adversarial objectives as (d_loss, g_loss) pairs, looked up by name.

Each takes the discriminator's raw outputs (logits / critic values / energies), shape (B,),
and returns a scalar to minimise. Conventions follow Lucic et al. 2018 ("Are GANs Created
Equal?"), Table 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.registry import Registry


@dataclass(frozen=True)
class AdversarialLoss:
    """``d(real_out, fake_out)`` and ``g(fake_out, real_out=None)``, each a scalar to minimise.

    ``relativistic`` declares what recipes would otherwise read from the loss's name: G's loss
    compares the fakes with D's outputs on real data, so the G phase shows D a real batch."""

    d: Callable[..., Tensor]
    g: Callable[..., Tensor]
    paper: str = ""
    relativistic: bool = False


LOSSES: Registry[AdversarialLoss] = Registry("loss")


def bce_real(logits: Tensor, target: float = 1.0) -> Tensor:
    """-log sigmoid(l) (target 1) as a stable softplus; ``target`` < 1 gives one-sided smoothing."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def minimax_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    """-E log D(x) - E log(1 - D(G(z))), Goodfellow et al. 2014, Eq. 1."""
    return bce_real(real, real_target) + F.softplus(fake).mean()


def minimax_g(fake: Tensor, real: Tensor | None = None) -> Tensor:
    """E log(1 - D(G(z))): the saturating generator loss of Eq. 1."""
    return -F.softplus(fake).mean()


def non_saturating_g(fake: Tensor, real: Tensor | None = None) -> Tensor:
    """-E log D(G(z)): the heuristic generator loss of Goodfellow et al. 2014, Sec. 3."""
    return F.softplus(-fake).mean()


def wasserstein_d(real: Tensor, fake: Tensor) -> Tensor:
    """E C(G(z)) - E C(x): the critic's side of the Kantorovich-Rubinstein dual (Arjovsky et al. 2017)."""
    return fake.mean() - real.mean()


def wasserstein_g(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return -fake.mean()


def least_squares_d(real: Tensor, fake: Tensor) -> Tensor:
    """1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2: LSGAN with a=0, b=c=1 (Mao et al. 2017, Eq. 9)."""
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def least_squares_g(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return 0.5 * (fake - 1).pow(2).mean()


def hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    """E relu(1 - D(x)) + E relu(1 + D(G(z))) (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def hinge_g(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return -fake.mean()


def relativistic_avg_d(real: Tensor, fake: Tensor) -> Tensor:
    """RaSGAN (Jolicoeur-Martineau 2019, Eq. 10): real should look more real than the average fake."""
    return F.softplus(-(real - fake.mean())).mean() + F.softplus(fake - real.mean()).mean()


def relativistic_avg_g(fake: Tensor, real: Tensor | None = None) -> Tensor:
    if real is None:
        raise ValueError("the relativistic generator loss needs the critic's outputs on real data")
    return F.softplus(-(fake - real.mean())).mean() + F.softplus(real - fake.mean()).mean()


def energy_margin_d(real_energy: Tensor, fake_energy: Tensor, margin: float = 1.0) -> Tensor:
    """D(x) + [m - D(G(z))]^+ on energies (reconstruction errors), EBGAN (Zhao et al. 2017, Eq. 1)."""
    return real_energy.mean() + F.relu(margin - fake_energy).mean()


def energy_g(fake_energy: Tensor, real_energy: Tensor | None = None) -> Tensor:
    return fake_energy.mean()


LOSSES.add("minimax", AdversarialLoss(minimax_d, minimax_g, "Goodfellow et al. 2014"))
LOSSES.add("non-saturating", AdversarialLoss(minimax_d, non_saturating_g, "Goodfellow et al. 2014"))
LOSSES.add("wasserstein", AdversarialLoss(wasserstein_d, wasserstein_g, "Arjovsky et al. 2017"))
LOSSES.add("least-squares", AdversarialLoss(least_squares_d, least_squares_g, "Mao et al. 2017"))
LOSSES.add("hinge", AdversarialLoss(hinge_d, hinge_g, "Lim & Ye 2017"))
LOSSES.add(
    "relativistic",
    AdversarialLoss(
        relativistic_avg_d, relativistic_avg_g, "Jolicoeur-Martineau 2019", relativistic=True
    ),
)
LOSSES.add("energy", AdversarialLoss(energy_margin_d, energy_g, "Zhao et al. 2017"))


def joint_embedding_loss(text: Tensor, image: Tensor, temperature: float = 0.1) -> Tensor:
    """Symmetric cross-entropy of matching each caption with its image in the batch and back,
    on cosine similarities / temperature (a contrastive form of Reed et al.'s objective)."""
    logits = F.normalize(text, dim=1) @ F.normalize(image, dim=1).t() / temperature
    target = torch.arange(len(text), device=text.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
