"""A feature network for content (perceptual) losses that can be had offline: the convolutional
part of the project's digit classifier (``ganarium/weights/digit_classifier.safetensors``).

SRGAN's content loss (Ledig et al. 2017, Eq. 5) compares VGG19 feature maps; VGG weights
cannot be downloaded here, so for digits the classifier's last conv block (64 x 7 x 7 after
its second max-pool, ReLU features like VGG's phi_{i,j}) stands in: the conv part of
``ganarium.nets.digit_classifier.DigitClassifier``, with the shipped weights.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from torch import Tensor, nn
from torch.nn import functional as F

from ganarium.errors import GanariumError
from ganarium.nets.digit_classifier import DigitClassifier

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "digit_classifier.safetensors"


class DigitFeatures(nn.Module):
    """(N, 1, H, W) in [-1, 1], any H -> (N, 64, 7, 7) frozen features (resized to 28 x 28 first,
    as the classifier reads digits)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = DigitClassifier().conv

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != (28, 28):
            x = F.interpolate(
                x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False
            )
        return self.conv(x)


@lru_cache(maxsize=1)
def _weights() -> dict[str, Tensor]:
    from safetensors.torch import load_file

    if not WEIGHTS.exists():
        raise GanariumError(f"{WEIGHTS} is missing: run scripts/train_digit_classifier.py")
    return {k: v for k, v in load_file(str(WEIGHTS)).items() if k.startswith("conv.")}


def digit_features() -> DigitFeatures:
    """A fresh frozen copy of the digit classifier's conv features, in eval mode."""
    net = DigitFeatures()
    net.load_state_dict(_weights())
    return net.requires_grad_(False).eval()
