"""Pieces shared by the recipes that learn a classifier from few labels (SSGAN, Triple-GAN).

Not a recipe module (the leading underscore keeps the registry from importing it as one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.hparams import hp
from ganarium.recipe import eval_mode

# the semi-supervised learning check (SSGAN's; Triple-GAN's extends it): 10 labels per class
SEMI_SUPERVISED_CHECK = dict(
    kind="semi-supervised",
    data="digits",
    data_options=dict(size=16, labels_per_class=10),
    steps=1000,
    model=dict(g_width=32, d_width=32, z_dim=32),
    train=dict(batch_size=64),
    bars=dict(margin=0.05),
)


def noise_std(default: float, help: str) -> Any:
    """A hyper-parameter: the standard deviation of a noise (>= 0; 0 switches it off)."""
    return hp(
        default,
        help,
        test=lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        rule="a noise std must be >= 0 (0 switches it off)",
    )


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


def supervised_loss(
    classify: Callable[[Tensor], Tensor], labelled: tuple[Tensor, Tensor] | None
) -> tuple[Tensor, dict[str, Tensor]] | None:
    """Cross-entropy of ``classify`` on labelled examples (x, y), e.g. a ``LabelMemory`` sample,
    with its logs ``sup`` and ``train_acc``; None while there are none."""
    if labelled is None:
        return None
    x, y = labelled
    logits = classify(x)
    sup = F.cross_entropy(logits, y)
    return sup, {"sup": sup.detach(), "train_acc": (logits.argmax(1) == y).float().mean()}


@torch.no_grad()
def classify_batched(net: nn.Module, x: Tensor, batch: int = 500) -> Tensor:
    """Logits of ``net`` on x in eval mode, batch by batch, restoring the mode after."""
    dev = next(net.parameters()).device
    with eval_mode(net):
        return torch.cat([net(x[i : i + batch].to(dev)).cpu() for i in range(0, len(x), batch)])
