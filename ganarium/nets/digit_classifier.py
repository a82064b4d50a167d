"""The architecture of the project's digit classifier (weights and their use live in
``ganarium.metrics.digit_classifier``): here, below the recipes, so a recipe can build a content
loss on its features (SRGAN's ``nets.content``) and other classifiers can share its shape."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 128


class DigitClassifier(nn.Module):
    """(N, 1, H, W) in [-1, 1], any H -> logits (N, 10); ``features`` is the 128-d penultimate layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(64 * 7 * 7, FEATURE_DIM)
        self.out = nn.Linear(FEATURE_DIM, 10)

    @staticmethod
    def prepare(x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(
                f"the digit classifier reads (N, 1, H, W) images, got {tuple(x.shape)}"
            )
        if x.shape[-1] != 28 or x.shape[-2] != 28:
            x = F.interpolate(
                x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False
            )
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.conv(self.prepare(x)).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))
