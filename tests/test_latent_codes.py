"""Latent codes beside z (``LatentSpec``'s codes, ``nn.coded.CodedGenerator``): drawing, setting
by name, traversal grids, for any mix of categorical and continuous codes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganarium.errors import ConfigError
from ganarium.latent import Code, LatentSpec
from ganarium.nn.coded import CodedGenerator

SPEC = LatentSpec(
    4,
    codes=(
        Code("digit", "categorical", 10),
        Code("width", "continuous", 1),
        Code("style", "categorical", 3),
        Code("pose", "continuous", 2),
    ),
)


def test_codes_are_drawn_in_their_ranges_and_laid_out_by_kind():
    cat, cont = SPEC.sample_codes(500)
    assert cat.shape == (500, 2) and cat.dtype == torch.long and cont.shape == (500, 3)
    assert cat[:, 0].max() == 9 and cat[:, 1].max() == 2 and cat.min() == 0
    assert cont.abs().max() <= 1 and cont.min() < -0.9 and cont.max() > 0.9
    assert SPEC.code_columns("style") == slice(1, 2) and SPEC.code_columns("pose") == slice(1, 3)


def test_named_codes_are_set_and_the_others_drawn():
    z = torch.randn(6, 4)
    given = {"style": torch.full((6,), 2), "pose": torch.linspace(-1, 1, 6)}
    z_out, cat, cont = SPEC.with_codes(6, given, z=z)
    assert torch.equal(z_out, z) and (cat[:, 1] == 2).all()
    assert torch.equal(cont[:, 1], torch.linspace(-1, 1, 6)) and torch.equal(cont[:, 1], cont[:, 2])
    assert len(set(cat[:, 0].tolist())) > 1  # the digit code was drawn
    with pytest.raises(ConfigError, match="unknown code 'hue': this model has digit, width"):
        SPEC.with_codes(6, {"hue": torch.zeros(6)})


def test_traversals_vary_one_code_along_each_row():
    z, codes, per_row = SPEC.traversal("width", steps=5)
    _, cat, cont = SPEC.with_codes(len(z), codes, z=z)
    assert per_row == 5 and len(z) == 50 and (z == z[0]).all()  # one noise vector
    grid = cont[:, 0].view(10, 5)
    assert torch.equal(grid[3], torch.linspace(-2, 2, 5)) and (cont[:, 1:] == 0).all()
    assert torch.equal(cat[:, 0].view(10, 5)[:, 0], torch.arange(10))  # a row per digit
    z, codes, per_row = SPEC.traversal("style", steps=5)
    _, cat, _ = SPEC.with_codes(len(z), codes, z=z)
    assert per_row == 3 and len(z) == 9 and torch.equal(cat[:, 1], torch.arange(3).repeat(3))
    assert (z.view(3, 3, 4) == z.view(3, 3, 4)[:, :1]).all()  # one noise vector per row


class _Recorder(nn.Module):
    def forward(self, x, y=None):
        self.seen = (x, y)
        return x


def test_coded_generator_feeds_scaled_one_hots_or_a_label():
    base = _Recorder()
    g = CodedGenerator(base, 4, (10, 3), 3, code_scale=2.0)
    z, cat, cont = torch.zeros(2, 4), torch.tensor([[7, 1], [0, 2]]), torch.ones(2, 3)
    g(z, cat, cont)
    x = base.seen[0]
    assert x.shape == (2, 4 + 10 + 3 + 3) and x[0, 4 + 7] == 2 and x[0, 4 + 10 + 1] == 2
    assert x[:, 4:17].sum() == 8 and (x[:, 17:] == 1).all()
    as_label = CodedGenerator(base, 4, (10,), 3, categorical_as_label=True)
    as_label(z, cat[:, :1], cont)
    assert base.seen[0].shape == (2, 7) and torch.equal(base.seen[1], torch.tensor([7, 0]))
    with pytest.raises(ValueError, match="exactly one categorical code"):
        CodedGenerator(base, 4, (10, 3), 3, categorical_as_label=True)
