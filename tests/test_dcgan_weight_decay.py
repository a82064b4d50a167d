"""DCGAN's weight_decay: the official dcgan_code's L2 decay (1e-5 on both players, added to the
gradient before Adam), in the optimizers the shared adversarial builder makes."""

import pytest
import torch

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.presets import build_preset_recipe, load_preset

INFO = DataInfo(name="tiny", kind="image", shape=(3, 16, 16), num_classes=0)


def tiny(recipe="dcgan", **options):
    torch.manual_seed(0)
    return RECIPES.get(recipe)(INFO, g_width=8, d_width=8, z_dim=8, **options)


def decays(optimizers):
    return {name: [g["weight_decay"] for g in o.param_groups] for name, o in optimizers.items()}


def test_weight_decay_defaults_to_zero_in_both_optimizers():
    assert decays(tiny().configure_optimizers()) == {"G": [0], "D": [0]}
    assert decays(tiny("lsgan").configure_optimizers()) == {"G": [0], "D": [0]}
    with pytest.raises(ConfigError, match="weight_decay"):
        tiny(weight_decay=-1e-5)


def test_weight_decay_reaches_both_optimizers_adam_and_rmsprop():
    opts = tiny(weight_decay=1e-5).configure_optimizers()
    assert decays(opts) == {"G": [1e-5], "D": [1e-5]}
    assert all(isinstance(o, torch.optim.Adam) for o in opts.values())
    opts = tiny(weight_decay=1e-5, optimizer="rmsprop").configure_optimizers()
    assert decays(opts) == {"G": [1e-5], "D": [1e-5]}


def test_a_step_with_weight_decay_is_adam_on_the_gradient_plus_decay_times_the_weight():
    decay = 0.1
    recipe = tiny(weight_decay=decay)
    opt = recipe.configure_optimizers()["D"]
    params = list(recipe.D.parameters())
    start = [p.detach().clone() for p in params]
    grads = [torch.randn_like(p) for p in params]
    # coupled decay (dcgan_code's Regularizer, torch Adam's weight_decay): Adam sees g + wd * w
    coupled = [p.clone().requires_grad_() for p in start]
    reference = torch.optim.Adam(coupled, lr=2e-4, betas=(0.5, 0.999))
    plain = [p.clone().requires_grad_() for p in start]
    undecayed = torch.optim.Adam(plain, lr=2e-4, betas=(0.5, 0.999))
    for _ in range(3):
        for p, c, q, g in zip(params, coupled, plain, grads):
            p.grad, c.grad, q.grad = g.clone(), g + decay * c.detach(), g.clone()
        opt.step()
        reference.step()
        undecayed.step()
    assert all(torch.allclose(p, c, atol=1e-7, rtol=0) for p, c in zip(params, coupled))
    assert not all(torch.allclose(p, q, atol=1e-7, rtol=0) for p, q in zip(params, plain))


def test_the_lsun_preset_sets_the_official_decay_of_1e_5():
    assert load_preset("dcgan", "lsun-64").model["weight_decay"] == 1e-5
    recipe = build_preset_recipe("dcgan", "lsun-64")
    assert decays(recipe.configure_optimizers()) == {"G": [1e-5], "D": [1e-5]}


def test_recipes_without_the_key_refuse_it():
    with pytest.raises(ConfigError, match="no hyper-parameter 'weight_decay'"):
        RECIPES.get("wgan-gp")(INFO, weight_decay=1e-5)
