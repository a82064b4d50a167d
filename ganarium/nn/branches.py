"""Layers that exist in K copies, one per branch, inside an otherwise shared network: the
separate output layers of MAD-GAN's K generators (Ghosh et al. 2018) and of CoGAN's two
generators, and the separate input layers of CoGAN's two discriminators (Liu & Tuzel 2016).

A ``LayerBank`` holds the K copies; which copy each sample of a batch goes through is set for
one forward pass with ``routed(bank, branch)``, so the shared network around it needs no change.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize


class LayerBank(nn.Module):
    """K copies of ``layer`` (each freshly initialised); sample i of a batch goes through copy
    ``route[i]``. (B, ...) -> (B, ...), the layer's own shapes."""

    def __init__(self, layer: nn.Module, branches: int) -> None:
        super().__init__()
        if branches < 1:
            raise ValueError("a LayerBank needs at least one branch")
        self.layers = nn.ModuleList([layer])
        for _ in range(branches - 1):
            self.layers.append(reinitialised_copy(layer))
        self.route: Tensor | None = None

    @property
    def branches(self) -> int:
        return len(self.layers)

    def forward(self, h: Tensor) -> Tensor:
        if self.route is None:
            raise RuntimeError("a LayerBank is called inside routed(bank, branch) only")
        route = self.route.to(h.device)
        if route.shape != (h.shape[0],):
            raise ValueError(f"route has shape {tuple(route.shape)}, the batch {h.shape[0]} rows")
        out = self.layers[0](h)
        # every copy sees the whole batch and each row keeps its own copy's output: K small
        # layers cost little, and the result stays one differentiable tensor
        for k in range(1, self.branches):
            mask = (route == k).view(-1, *([1] * (out.dim() - 1)))
            out = torch.where(mask, self.layers[k](h), out)
        return out


def reinitialised_copy(layer: nn.Module) -> nn.Module:
    """A deep copy of ``layer`` with freshly drawn parameters (spectral-normed weights too), so
    the branches do not start identical."""
    twin = copy.deepcopy(layer)
    for m in twin.modules():
        if parametrize.is_parametrized(m, "weight"):
            nn.init.kaiming_uniform_(m.parametrizations.weight.original, a=math.sqrt(5))
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif callable(getattr(m, "reset_parameters", None)):
            m.reset_parameters()
    return twin


@contextlib.contextmanager
def routed(bank: LayerBank, branch: Tensor | int, batch: int) -> Iterator[None]:
    """Within the block, sample i goes through ``bank``'s copy ``branch[i]`` (an int: all)."""
    if isinstance(branch, int):
        branch = torch.full((batch,), branch, dtype=torch.long)
    if int(branch.min()) < 0 or int(branch.max()) >= bank.branches:
        raise ValueError(f"branch indices must lie in 0..{bank.branches - 1}")
    bank.route = branch
    try:
        yield
    finally:
        bank.route = None


def _leaves_with_parameters(module: nn.Module) -> list[tuple[nn.Module, str]]:
    """(parent, attribute name) of every module that holds parameters of its own, in the order
    the net registers them (depth first)."""
    found = []
    for name, child in module.named_modules():
        if not name or "parametrizations" in name.split("."):
            continue  # a spectral norm's inner modules belong to the layer they normalise
        if parametrize.is_parametrized(child) or next(child.parameters(False), None) is not None:
            parent_name, _, attr = name.rpartition(".")
            found.append((module.get_submodule(parent_name), attr))
    return found


def branch_last_layer(net: nn.Module, branches: int) -> LayerBank:
    """Replace the last registered layer with parameters of ``net`` (a generator's output layer
    in every net family here) by a LayerBank of ``branches`` copies; returns the bank."""
    leaves = _leaves_with_parameters(net)
    if not leaves:
        raise ValueError("the net has no layer with parameters to branch")
    parent, name = leaves[-1]
    bank = LayerBank(getattr(parent, name), branches)
    setattr(parent, name, bank)
    return bank


def branch_first_layer(body: nn.Sequential, branches: int) -> LayerBank:
    """Replace the first layer with parameters of a sequential ``body`` (a discriminator's input
    layer) by a LayerBank of ``branches`` copies; returns the bank."""
    for i, layer in enumerate(body):
        if next(layer.parameters(), None) is not None:
            bank = LayerBank(layer, branches)
            body[i] = bank
            return bank
    raise ValueError("the body has no layer with parameters to branch")
