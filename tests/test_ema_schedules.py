"""The shared EMA and ramps (techniques/ema.py, techniques/schedules.py), Triple-GAN's use of
them, and the labelled / representation recipes' cross-key rules living in their Hparams."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.recipe import ema_update as recipe_ema_update
from ganarium.techniques.ema import MovingAverage, ema_update
from ganarium.techniques.schedules import LinearRamp, SigmoidRamp


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_moving_average_moves_by_its_decay_and_copies_buffers():
    net = _net()
    ema = MovingAverage(net, 0.25)
    assert ema.average is not net
    assert not any(p.requires_grad for p in ema.average.parameters())
    before = [p.clone() for p in ema.average.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.fill_(3.0)
    ema.update(step=5)
    for p_a, p_0, p in zip(ema.average.parameters(), before, net.parameters()):
        torch.testing.assert_close(p_a, 0.25 * p_0 + 0.75 * p)
    torch.testing.assert_close(ema.average[1].running_mean, torch.full((4,), 3.0))


def test_moving_average_reads_a_decay_schedule_at_the_step():
    steps = []
    ema = MovingAverage(_net(), lambda step: steps.append(step) or 1.0)
    frozen = [p.clone() for p in ema.average.parameters()]
    with torch.no_grad():
        for p in ema.net.parameters():
            p.add_(1.0)
    ema.update(step=7)
    assert steps == [7]
    for p_a, p_0 in zip(ema.average.parameters(), frozen):  # decay 1: the average stays put
        torch.testing.assert_close(p_a, p_0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        MovingAverage(_net(), 1.5)


def test_the_recipe_and_the_mean_teacher_share_one_ema_update():
    """One implementation: the Trainer's EMA (through the recipe) and MovingAverage."""
    assert recipe_ema_update is ema_update
    a, net = _net(), _net()
    before = [p.detach().clone() for p in a.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(-2.0).add_(0.3)
    ema_update(a, net, 0.9)
    for p_a, p_0, p in zip(a.parameters(), before, net.parameters()):
        torch.testing.assert_close(p_a, 0.9 * p_0 + 0.1 * p)


def test_sigmoid_ramp():
    ramp = SigmoidRamp(100)
    values = [ramp.at(s) for s in (0, 25, 50, 100, 1000)]
    assert values[0] == pytest.approx(math.exp(-5)) and values[3] == values[4] == 1.0
    assert values == sorted(values) and len(set(values[:4])) == 4
    assert ramp.at(50) == pytest.approx(math.exp(-5 * 0.25))
    assert SigmoidRamp(0).at(1) == 1.0  # no ramp: full weight from the first step


def test_linear_ramp():
    ramp = LinearRamp(start=10, length=20, low=2.0, high=4.0)
    assert [ramp.at(s) for s in (0, 10, 20, 30, 99)] == [2.0, 2.0, 3.0, 4.0, 4.0]
    assert LinearRamp(start=5, length=0).at(4) == 0.0 and LinearRamp(5, 0).at(5) == 1.0


def test_triplegan_teacher_is_an_ema_of_c_under_its_checkpoint_names():
    from ganarium.data import load_dataset

    info = load_dataset("digits", size=16, labels_per_class=10).info
    kw = dict(g_width=8, d_width=8, c_width=8, z_dim=8)
    recipe = RECIPES.get("triplegan")(info, teacher_decay=0.5, consistency_rampup=40, **kw)
    keys = recipe.state_dict().keys()
    c_keys = [k[len("C.") :] for k in keys if k.startswith("C.")]
    assert c_keys and [k for k in keys if k.startswith("C_teacher.")] == [
        f"C_teacher.{k}" for k in c_keys
    ]
    assert recipe.teacher.net is recipe.C and recipe.teacher.average is recipe.C_teacher
    assert "C_teacher" not in recipe.nets()
    assert recipe.consistency_ramp == SigmoidRamp(40)


@pytest.mark.parametrize(
    "name, given, message",
    [
        ("triplegan", {"loss": "hinge"}, "log-loss"),
        ("triplegan", {"teacher_decay": 1.0}, r"\[0, 1\)"),
        ("infogan", {"conditional": True}, "without labels"),
        ("infogan", {"z_dist": "gaussian"}, "normal, uniform"),
        ("infogan", {"n_categories": 1}, ">= 2"),
        ("bigan", {"conditional": True}, "unconditional"),
        ("bigbigan", {"loss": "non-saturating"}, "hinge"),
        ("bigbigan", {"conditional": True}, "unconditional"),
        ("ogan", {"loss": "hinge"}, "softplus"),
        ("instance-gan", {"conditional": True}, "instances, not labels"),
        ("biggan", {"hier": False}, "need arch=official"),
        ("biggan", {"standing_stats": -1}, ">= 0"),
        ("icgan", {"invert": "live"}, "training, sampling"),
        ("triplegan", {"reuse_fakes": True, "n_critic": 2}, "n_critic=1"),  # the base's rule
    ],
)
def test_bad_settings_are_refused_from_the_hparams_alone(name, given, message):
    """Refused before any net is built (no data needed): the rules live in Hparams."""
    with pytest.raises(ConfigError, match=message):
        RECIPES.get(name).resolve_hparams(given)


def test_infogan_codes_set_by_name():
    from ganarium.data import load_dataset

    info = load_dataset("digits", size=16).info
    recipe = RECIPES.get("infogan")(info, g_width=8, d_width=8, z_dim=8)
    assert recipe.code_names() == ("cat", "c1", "c2")
    assert recipe.latent.dim == 8 and [c.kind for c in recipe.latent.codes] == [
        "categorical",
        "continuous",
        "continuous",
    ]
    z, cat = torch.randn(4, 8), torch.tensor([0, 1, 2, 3])
    low = recipe.generate_with_codes(4, {"cat": cat, "c1": torch.full((4,), -2.0)}, z)
    high = recipe.generate_with_codes(4, {"cat": cat, "c1": torch.full((4,), 2.0)}, z)
    assert not torch.allclose(low, high)
    torch.manual_seed(1)
    a = recipe.generate(4, labels=cat, z=z)
    torch.manual_seed(1)
    b = recipe.generate_with_codes(4, {"cat": cat}, z)
    assert torch.equal(a, b)
    with pytest.raises(ConfigError, match="unknown code 'c3'"):
        recipe.generate_with_codes(4, {"c3": torch.zeros(4)})
