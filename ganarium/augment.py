"""Augmentation of what a discriminator sees, a switch every recipe accepts (``model.augment``).

``make_augmenter(hp)`` builds the recipe's ``augmenter``, an ``nn.Module`` a recipe applies to
real and fake images alike before its discriminator: ``augmenter(x) -> x'`` (differentiable, so
G's gradient passes through), and ``augmenter.observe(d_real)`` after each D step, the feedback
an adaptive augmenter uses to set its probability. Its state (an adaptive probability) lives in
buffers, so checkpoints carry it. ``augment='none'`` (the default) is the identity.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ganarium.errors import ConfigError

# the hyper-parameters every recipe accepts (merged into Recipe.defaults)
AUGMENT_DEFAULTS: dict[str, Any] = {
    "augment": "none",  # none | diffaugment (Zhao et al. 2020) | ada (Karras et al. 2020)
}
AUGMENT_HELP: dict[str, str] = {
    "augment": "augmentation of what D sees, real and fake alike: none, diffaugment or ada",
}
AUGMENTS = ("none",)


class Identity(nn.Module):
    """No augmentation."""

    def forward(self, x: Tensor) -> Tensor:
        return x

    def observe(self, d_real: Tensor) -> None:
        """Feedback from D's outputs on real images (used by adaptive augmenters)."""


def make_augmenter(hp: Any) -> nn.Module:
    """The augmenter named by ``hp.augment``."""
    name = getattr(hp, "augment", "none")
    if name == "none":
        return Identity()
    raise ConfigError(f"model.augment={name!r}: use one of {', '.join(AUGMENTS)}")
