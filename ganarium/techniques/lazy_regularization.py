"""Lazy regularization (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN", Sec. 3.1 and App. B): a regularizer that runs every k steps is weighted by k, and the
player's Adam may be corrected for the k + 1 optimizer steps it takes per k minibatches."""

from __future__ import annotations


def lazy_adam(lr: float, betas: tuple[float, ...], every: int) -> tuple[float, tuple[float, ...]]:
    """(lr, betas) of Adam for a player regularised every ``every`` steps: lr * c and
    betas ** c with c = every / (every + 1); unchanged for ``every`` 1."""
    if every <= 1:
        return lr, tuple(betas)
    c = every / (every + 1)
    return lr * c, tuple(b**c for b in betas)
