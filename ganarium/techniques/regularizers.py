"""Regularizers as small functions a recipe adds to its losses. Penalties on input gradients take
them with ``ganarium.amp.input_grad``, so they stay correct under fp16 loss scaling."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

from ganarium.amp import input_grad


def _grad_norm_sq_penalty(critic: Callable[[Tensor], Tensor], x: Tensor, target: float) -> Tensor:
    x = x.detach().requires_grad_(True)
    grad = input_grad(critic(x), x)
    norm = grad.flatten(1).norm(2, dim=1)
    return (norm - target).pow(2).mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, target: float = 1.0
) -> Tensor:
    """E (||grad C(x_hat)|| - 1)^2 on random interpolates x_hat (Gulrajani et al. 2017, Eq. 3)."""
    alpha = torch.rand(
        real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype
    )
    x_hat = alpha * real.detach() + (1 - alpha) * fake.detach()
    return _grad_norm_sq_penalty(critic, x_hat, target)


def dragan_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, scale: float = 0.5, target: float = 1.0
) -> Tensor:
    """Gradient penalty around real data, x + delta with delta ~ scale * std(x) * U[0,1)
    (Kodali et al. 2017, Sec. 4, following the authors' code)."""
    real = real.detach()
    noise = scale * real.std() * torch.rand_like(real)
    alpha = torch.rand(
        real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype
    )
    x_hat = real + alpha * noise
    return _grad_norm_sq_penalty(critic, x_hat, target)


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """E ||grad D(x)||^2 on real data (Mescheder et al. 2018, Eq. 9), without the gamma/2 factor."""
    x = real.detach().requires_grad_(True)
    return input_grad(critic(x), x).flatten(1).pow(2).sum(1).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, clip: float) -> None:
    """Clamp every parameter to [-clip, clip]: WGAN's crude Lipschitz constraint (Arjovsky et al. 2017)."""
    for p in module.parameters():
        p.clamp_(-clip, clip)


def orthogonal_penalty(params: Iterable[Tensor], beta: float = 1e-4) -> Tensor:
    """beta * ||W^T W * (1 - I)||_F^2 summed over weight matrices (Brock et al. 2019, Eq. 3)."""
    total = None
    for w in params:
        if w.dim() < 2:
            continue
        m = w.flatten(1)
        gram = m @ m.t()
        off = gram * (1 - torch.eye(gram.shape[0], device=w.device, dtype=w.dtype))
        term = off.pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("orthogonal_penalty got no weight matrices")
    return beta * total


def feature_matching(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """|| E f(x) - E f(G(z)) ||^2 on a discriminator layer (Salimans et al. 2016, Sec. 3.1)."""
    return (real_features.detach().mean(0) - fake_features.mean(0)).pow(2).sum()


def prediction_entropy(logits: Tensor) -> Tensor:
    """Mean entropy of softmax(logits) (B, K): minimised on unlabelled data, it pushes a classifier's
    decision boundaries into low-density regions (entropy minimisation, Grandvalet & Bengio 2005;
    the classifier term of Triple-GAN's public code)."""
    log_p = logits.log_softmax(1)
    return -(log_p.exp() * log_p).sum(1).mean()


def class_balance(logits: Tensor) -> Tensor:
    """Cross-entropy of the batch's mean prediction against the uniform class distribution: the
    counterweight to entropy minimisation, which could otherwise put every example in one class."""
    mean_p = logits.softmax(1).mean(0)
    return -mean_p.clamp_min(1e-8).log().mean()


def consistency_mse(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """Mean squared gap between the student's and the teacher's class probabilities on two noisy
    views of the same inputs, the teacher held fixed (mean teacher, Tarvainen & Valpola 2017)."""
    gap = student_logits.softmax(1) - teacher_logits.detach().softmax(1)
    return gap.pow(2).mean()
