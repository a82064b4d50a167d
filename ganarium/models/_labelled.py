"""Pieces shared by the recipes that learn a classifier from few labels (SSGAN, Triple-GAN).

Not a recipe module (the leading underscore keeps the registry from importing it as one).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.data import DataInfo
from ganarium.nets import NETS


class LabelMemory:
    """A ring buffer of the labelled examples seen in training batches (label >= 0).

    With 10 labels per class, a batch of 64 from 4,000 digits holds about 1.6 labelled images;
    sampling labelled batches from this memory gives the supervised term full batches, as the
    papers do with a separate labelled stream. Its contents are training state: recipes return
    ``state_dict()`` from their ``extra_state()``, so a resumed run samples what it would have.
    """

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self.x: Tensor | None = None
        self.y: Tensor | None = None
        self.next = 0

    def add(self, x: Tensor, y: Tensor) -> None:
        keep = y >= 0
        x, y = x[keep].detach()[-self.capacity :], y[keep][-self.capacity :]
        if not len(y):
            return
        if self.x is None:
            self.x = x.new_zeros(self.capacity, *x.shape[1:])
            self.y = y.new_full((self.capacity,), -1)
        idx = (self.next + torch.arange(len(y), device=y.device)) % self.capacity
        self.x[idx], self.y[idx] = x, y
        self.next = int(idx[-1] + 1) % self.capacity

    def state_dict(self) -> dict[str, Any]:
        if self.y is None:
            return {"next": self.next}
        return {"x": self.x, "y": self.y, "next": self.next}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.x, self.y = state.get("x"), state.get("y")
        self.next = int(state["next"])

    def sample(self, n: int) -> tuple[Tensor, Tensor] | None:
        if self.y is None:
            return None
        filled = torch.nonzero(self.y >= 0).flatten()
        pick = filled[torch.randint(len(filled), (n,), device=filled.device)]
        return self.x[pick], self.y[pick]


class FeatureClassifier(nn.Module):
    """A discriminator's body (``features``) plus an optional layer and a linear head:
    x -> logits (B, K). The same class serves as the baseline built from scratch.

    ``input_noise`` adds N(0, sigma^2) to the input while training, the regulariser of the
    semi-supervised discriminator of Salimans et al. 2016 (their MNIST model, sigma = 0.3);
    ``jitter`` shifts each input by up to that many pixels each way while training (edge pixels
    repeat), the translation augmentation of the mean teacher's digit experiments."""

    def __init__(
        self,
        body: nn.Module,
        head: nn.Module,
        extra: nn.Module | None = None,
        input_noise: float = 0.0,
        jitter: int = 0,
    ) -> None:
        super().__init__()
        self.body, self.head = body, head
        self.extra = extra if extra is not None else nn.Identity()
        self.input_noise = input_noise
        self.jitter = jitter

    def features(self, x: Tensor) -> Tensor:
        if self.training and self.jitter > 0:
            x = random_shift(x, self.jitter)
        if self.training and self.input_noise > 0:
            x = x + self.input_noise * torch.randn_like(x)
        return self.body.features(x)

    def logits_from(self, h: Tensor) -> Tensor:
        return self.head(self.extra(h))

    def forward(self, x: Tensor) -> Tensor:
        return self.logits_from(self.features(x))


def random_shift(x: Tensor, pixels: int) -> Tensor:
    """Each image of x (B, C, H, W) moved by its own integer offsets in [-pixels, pixels] along
    both axes; the pixels shifted in repeat the border."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, b), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channels, rows, cols]


@torch.no_grad()
def classify_batched(net: nn.Module, x: Tensor, batch: int = 500) -> Tensor:
    """Logits of ``net`` on x in eval mode, batch by batch, restoring the mode after."""
    was = net.training
    net.eval()
    try:
        dev = next(net.parameters()).device
        return torch.cat([net(x[i : i + batch].to(dev)).cpu() for i in range(0, len(x), batch)])
    finally:
        net.train(was)


def feature_classifier(
    info: DataInfo,
    net: str,
    width: int | None,
    norm: str,
    extra_dim: int = 0,
    input_noise: float = 0.0,
    jitter: int = 0,
) -> FeatureClassifier:
    """A K-class classifier made of a discriminator body from net family ``net`` and a linear
    head (``extra_dim`` wider for a layer such as minibatch discrimination, added by the caller)."""
    kw: dict[str, Any] = {"norm": norm, "cond": "none"}
    if width is not None:
        kw["width"] = width
    body = NETS.get(net).discriminator(dataclasses.replace(info, num_classes=0), **kw)
    head = nn.Linear(body.feature_dim + extra_dim, info.num_classes)
    return FeatureClassifier(body, head, input_noise=input_noise, jitter=jitter)
