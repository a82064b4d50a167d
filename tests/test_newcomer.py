"""A newcomer adds a GAN with two discriminators by one recipe file: the file shown in
docs/recipes.md is written into a package, imported (which registers it), trained, probed and
sampled from the command line, with nothing else changed."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest
import torch

from ganarium.capabilities import CAPABILITIES
from ganarium.data import load_dataset
from ganarium.models import RECIPES

DOC = Path(__file__).resolve().parent.parent / "docs" / "recipes.md"


def _example() -> str:
    text = DOC.read_text()
    match = re.search(r"<!-- newcomer-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "docs/recipes.md lost its newcomer example"
    return match.group(1)


@pytest.fixture
def two_d_gan(tmp_path, monkeypatch):
    pkg = tmp_path / "newcomer_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "two_d_gan.py").write_text(_example())
    monkeypatch.syspath_prepend(str(tmp_path))
    RECIPES.names()  # load the shipped recipes first
    try:
        module = importlib.import_module("newcomer_pkg.two_d_gan")
        yield module.TwoDiscriminatorGAN
    finally:
        RECIPES._items.pop("two-d-gan", None)  # noqa: SLF001 - the test's own registration
        RECIPES._meta.pop("two-d-gan", None)  # noqa: SLF001
        for name in [m for m in sys.modules if m.startswith("newcomer_pkg")]:
            del sys.modules[name]


def test_the_documented_two_discriminator_gan_trains_as_one_file(two_d_gan):
    from conftest import fit_quietly

    assert RECIPES.get("two-d-gan") is two_d_gan and two_d_gan.name == "two-d-gan"
    data = load_dataset("digits", size=16)
    torch.manual_seed(0)
    recipe = two_d_gan(data.info, g_width=8, d_width=8, narrow_width=4, z_dim=16)
    assert [p.name for p in recipe.phases()] == ["D", "D_narrow", "G"]
    assert set(recipe.configure_optimizers()) == {"G", "D", "D_narrow"}
    narrow_before = [p.detach().clone() for p in recipe.D_narrow.parameters()]
    trainer, history = fit_quietly(recipe, data, steps=3)
    assert {"G/L_D", "G/L_D_narrow", "D_narrow/d_real"} <= set(history[-1])
    moved = [not torch.equal(a, b) for a, b in zip(narrow_before, recipe.D_narrow.parameters())]
    assert all(moved), "the second discriminator was not trained"
    caps = recipe.capabilities()
    assert caps.latent_dim == 16 and not caps.conditional
    for name in caps.offered():
        CAPABILITIES.get(name).probe(recipe)
    x = recipe.generate(5)
    assert x.shape == (5, 1, 16, 16) and x.abs().max() <= 1


def test_its_hyper_parameters_are_declared_once_and_checked(two_d_gan):
    from ganarium.errors import ConfigError

    assert two_d_gan.describe_hparams()["narrow_width"] == "channel width of the second, narrower D"
    assert two_d_gan.defaults["loss"] == "non-saturating"
    info = load_dataset("digits", size=16).info
    with pytest.raises(ConfigError, match="narrow_width=0 is out of range"):
        two_d_gan(info, narrow_width=0)
