"""A recipe's latent: its shape and distribution, and the codes a recipe draws beside it.

The latent belongs to the recipe, not to its nets: ``generate``, interpolation, truncation, the
study and the interactive page draw from ``recipe.latent``; the nets take ``z`` as input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from ganarium.errors import ConfigError

DISTRIBUTIONS = ("normal", "uniform")


@dataclass(frozen=True)
class Code:
    """A latent code drawn beside z (InfoGAN): ``categorical`` with ``size`` values, or
    ``continuous`` of ``size`` dimensions in U(-1, 1)."""

    name: str
    kind: str
    size: int

    @property
    def width(self) -> int:
        """Columns among the values of its kind: 1 for a categorical code, else ``size``."""
        return 1 if self.kind == "categorical" else self.size


@dataclass(frozen=True)
class LatentSpec:
    """z of ``dim`` numbers from N(0, I) (``normal``) or U(-1, 1) (``uniform``), with optional
    named ``codes``. ``sample`` draws as the nets drew before 0.2 (the same torch calls)."""

    dim: int
    distribution: str = "normal"
    codes: tuple[Code, ...] = ()

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"latent distribution {self.distribution!r}: use normal or uniform")

    def sample(
        self, n: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None
    ) -> Tensor:
        """(n, dim) latents on ``device``."""
        if self.distribution == "uniform":
            return torch.rand(n, self.dim, device=device, generator=generator) * 2 - 1
        return torch.randn(n, self.dim, device=device, generator=generator)

    def code_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.codes)

    def categorical(self) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if c.kind == "categorical")

    def continuous_size(self) -> int:
        """How many numbers the continuous codes hold together."""
        return sum(c.size for c in self.codes if c.kind == "continuous")

    def code(self, name: str) -> Code:
        """The code called ``name``; a ConfigError names the codes there are."""
        for c in self.codes:
            if c.name == name:
                return c
        raise ConfigError(f"unknown code {name!r}: this model has {', '.join(self.code_names())}")

    def code_columns(self, name: str) -> slice:
        """The columns of code ``name`` among the values of its kind (``sample_codes``)."""
        code = self.code(name)
        start = sum(c.width for c in self.codes[: self.codes.index(code)] if c.kind == code.kind)
        return slice(start, start + code.width)

    def sample_codes(self, n: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """The codes of n samples, drawn in this order: each categorical code uniform over its
        values, as the columns of (n, #categorical) longs, then the continuous codes together
        from U(-1, 1), (n, ``continuous_size()``)."""
        drawn = [torch.randint(0, c.size, (n,), device=device) for c in self.categorical()]
        cat = _columns(drawn, n, device)
        cont = torch.rand(n, self.continuous_size(), device=device) * 2 - 1
        return cat, cont

    def centre_codes(self, n: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """Codes of n samples with each categorical code cycling through its values and the
        continuous codes at 0."""
        rows = torch.arange(n, device=device)
        cat = _columns([rows % c.size for c in self.categorical()], n, device)
        return cat, torch.zeros(n, self.continuous_size(), device=device)

    def with_codes(
        self,
        n: int,
        given: Mapping[str, Tensor],
        device: torch.device | str = "cpu",
        z: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """(z, categorical, continuous) of n samples with the named codes ``given``: (n,) values,
        set in every column of a wider code. The other codes are drawn (``sample_codes``), then
        z when it is not given."""
        columns = {name: (self.code(name).kind, self.code_columns(name)) for name in given}
        cat, cont = self.sample_codes(n, device)
        z = self.sample(n, device) if z is None else z.to(device)
        for name, (kind, cols) in columns.items():
            values = cat if kind == "categorical" else cont
            values[:, cols] = given[name].to(device).view(n, -1)
        return z, cat, cont

    def traversal(
        self, code: str, steps: int, device: torch.device | str = "cpu"
    ) -> tuple[Tensor, dict[str, Tensor], int]:
        """The noise and codes of a grid varying ``code`` along each row (InfoGAN's Fig. 2),
        other continuous codes at 0. A continuous code goes over [-2, 2] in ``steps`` columns
        with one noise vector, each row a value of the first categorical code; a categorical
        code goes over its K values in K rows of one noise vector each. Returns (z, the codes to
        set with ``with_codes``, images per row)."""
        varied = self.code(code)
        rows = None
        if varied.kind == "categorical":  # K rows of one noise vector each, the K values across
            k, cols = varied.size, varied.size
            z = self.sample(k, device).repeat_interleave(k, 0)
            values = torch.arange(k, device=device).repeat(k)
        else:  # one noise vector; a row per value of the first categorical code
            rows = self.categorical()[0] if self.categorical() else None
            k, cols = (rows.size if rows else 1), steps
            z = self.sample(1, device).expand(k * steps, -1)
            values = torch.linspace(-2, 2, steps, device=device).repeat(k)
        n = len(z)
        codes = {
            c.name: torch.zeros(n, device=device) for c in self.codes if c.kind == "continuous"
        }
        codes[code] = values
        if rows is not None:
            codes[rows.name] = torch.arange(k, device=device).repeat_interleave(steps)
        return z, codes, cols


def _columns(values: list[Tensor], n: int, device: torch.device | str) -> Tensor:
    """(n,) long tensors as the columns of one (n, len(values)) tensor."""
    return torch.stack(values, 1) if values else torch.zeros(n, 0, dtype=torch.long, device=device)


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between latents a and b (1, D) at fractions t (T, 1) -> (T, D);
    linear when they are (nearly) parallel."""
    cos = torch.nn.functional.cosine_similarity(a, b).clamp(-1, 1)
    omega = torch.acos(cos)
    if float(omega) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
