"""The likelihood baselines (issue 13): the VAE with the GANs' nets and DRAW's canvas, both
trained on their ELBO in one phase."""

import pytest
import torch
import torch.nn.functional as F
from conftest import fit_quietly

from ganarium.data import load_dataset
from ganarium.models import RECIPES
from ganarium.models._likelihood import bernoulli_log_likelihood, gaussian_kl
from ganarium.nets.draw import filterbank


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", size=16)


def test_elbo_terms():
    logits, x = torch.randn(3, 1, 4, 4), torch.rand(3, 1, 4, 4) * 2 - 1
    want = -F.binary_cross_entropy(torch.sigmoid(logits), (x + 1) / 2, reduction="none").sum(
        (1, 2, 3)
    )
    torch.testing.assert_close(bernoulli_log_likelihood(logits, x), want)
    assert torch.equal(gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)), torch.zeros(2))
    assert (gaussian_kl(torch.ones(2, 5), torch.zeros(2, 5)) == 2.5).all()


def test_vae_takes_the_studys_shared_settings(digits):
    recipe = RECIPES.get("vae")(
        digits.info, net="infogan", z_dim=64, lr=1e-4, betas=(0.5, 0.9), g_width=8, d_width=8
    )
    history = fit_quietly(recipe, digits, 3)[1]
    assert {"ELBO/elbo", "ELBO/kl", "ELBO/log_likelihood"} <= set(history[-1])
    assert history[-1]["ELBO/elbo"] == pytest.approx(-history[-1]["loss/ELBO"])
    x = digits.tensors["image"][:4]
    assert recipe.encode(x).shape == (4, 64) and recipe.reconstruct(x).shape == x.shape
    elbo = recipe.evidence_lower_bound(x, samples=2)
    assert elbo.shape == (4,) and (elbo < 0).all()
    out = recipe.generate(5)
    assert out.abs().max() <= 1 and out.shape == (5, 1, 16, 16)


@pytest.mark.parametrize("net", ["dcgan", "infogan"])
def test_vae_decoders_emit_logits(digits, net):
    recipe = RECIPES.get("vae")(digits.info, net=net, z_dim=4, g_width=8, d_width=8)
    assert not any(isinstance(m, torch.nn.Tanh) for m in recipe.G.modules())


def test_filterbanks_are_normalised_gaussians():
    fy, fx, gamma = filterbank(torch.zeros(2, 5), 3, 8, 10)
    assert fy.shape == (2, 3, 8) and fx.shape == (2, 3, 10) and gamma.shape == (2, 1)
    torch.testing.assert_close(fx.sum(-1), torch.ones(2, 3))
    centres = (fx * torch.arange(10.0)).sum(-1)
    assert centres[0, 1] == pytest.approx(4.5, abs=1e-4)  # the grid centre: (W + 1) / 2 - 1


@pytest.mark.parametrize("attention", [True, False])
def test_draw_draws_its_canvas_over_t_steps(digits, attention):
    n = 2 if attention else 0
    recipe = RECIPES.get("draw")(
        digits.info, steps=4, hidden=16, z_dim=4, read_n=n, write_n=3 if attention else 0
    )
    history = fit_quietly(recipe, digits, 3)[1]
    assert history[-1]["ELBO/kl"] >= 0
    torch.manual_seed(0)
    images, steps = recipe.canvas_steps(3)
    torch.manual_seed(0)
    final = recipe.generate(3)
    assert steps == 4 and images.shape == (12, 1, 16, 16)
    torch.testing.assert_close(images.view(3, 4, 1, 16, 16)[:, -1], final)
    assert recipe.capabilities().canvas


@pytest.mark.parametrize("name", ["vae", "draw"])
def test_likelihood_models_refuse_augmentation_they_would_ignore(digits, name):
    from ganarium.errors import ConfigError

    assert "augment" in RECIPES.get(name).defaults  # every recipe takes the key
    with pytest.raises(ConfigError, match=f"recipe '{name}': augment=ada .* drop model.augment"):
        RECIPES.get(name)(digits.info, augment="ada")
    caps = RECIPES.get(name)(digits.info, z_dim=4).capabilities()
    assert caps.likelihood and caps.signals == ("elbo",)


def test_draw_refuses_a_one_point_attention_grid(digits):
    from ganarium.errors import ConfigError

    with pytest.raises(ConfigError, match="read_n and write_n must be 0"):
        RECIPES.get("draw")(digits.info, read_n=1)
