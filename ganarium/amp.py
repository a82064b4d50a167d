"""Mixed precision helpers shared by the Trainer and the regularizers.

Under ``train.amp=fp16`` every optimizer has its own ``GradScaler`` and the Trainer runs each
phase's loss inside ``loss_scale(scale)``. A loss term that differentiates inside the loss (a
gradient penalty, R1, path length, a latent step) takes its gradient with ``input_grad``, which
scales the output before ``autograd.grad`` and unscales the result, so fp16 gradients do not
underflow: PyTorch's documented AMP recipe for gradient penalties.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import torch
from torch import Tensor

_SCALE: ContextVar[float] = ContextVar("ganarium_loss_scale", default=1.0)


@contextlib.contextmanager
def loss_scale(scale: float) -> Iterator[None]:
    """Within the block, ``input_grad`` scales outputs by ``scale`` (1.0: no scaling)."""
    token = _SCALE.set(float(scale))
    try:
        yield
    finally:
        _SCALE.reset(token)


def current_loss_scale() -> float:
    return _SCALE.get()


def input_grad(output: Tensor, inputs: Tensor, create_graph: bool = True) -> Tensor:
    """d output.sum() / d inputs, computed on the output times the current loss scale and divided
    back in float32, so that the backward pass of an fp16 network keeps its small gradients."""
    scale = _SCALE.get()
    (grad,) = torch.autograd.grad(output.sum() * scale, inputs, create_graph=create_graph)
    grad = grad.float()
    return grad / scale if scale != 1.0 else grad
