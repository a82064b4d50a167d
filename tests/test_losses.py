import math

import pytest
import torch
from torch import nn

from ganarium.techniques import losses
from ganarium.techniques.losses import LOSSES
from ganarium.techniques.regularizers import (
    clip_weights,
    dragan_penalty,
    gradient_penalty,
    orthogonal_penalty,
    r1_penalty,
)


def test_loss_values_on_known_outputs():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    assert losses.hinge_d(real, fake).item() == pytest.approx((0 + 1) / 2 + (0 + 2) / 2)
    assert losses.wasserstein_d(real, fake).item() == pytest.approx(0.0 - 1.0)
    assert losses.least_squares_g(fake).item() == pytest.approx(0.5 * (4 + 0) / 2)
    zero = torch.zeros(3)
    assert losses.minimax_d(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert losses.non_saturating_g(zero).item() == pytest.approx(math.log(2))
    assert losses.minimax_g(zero).item() == pytest.approx(-math.log(2))


def test_one_sided_smoothing_target():
    logits = torch.full((4,), 10.0)
    assert losses.minimax_d(logits, -logits, real_target=0.9) > losses.minimax_d(logits, -logits)


@pytest.mark.parametrize("name", LOSSES.names())
def test_every_loss_pushes_the_right_way(name):
    """Raising D's output on real data lowers D's loss; raising it on fakes lowers G's loss."""
    adv = LOSSES.get(name)
    real = torch.zeros(8, requires_grad=True)
    fake = torch.zeros(8, requires_grad=True)
    if name == "energy":  # energies: low on real, high on fake is what D wants
        real_e, fake_e = (
            torch.full((8,), 0.5, requires_grad=True),
            torch.full((8,), 0.5, requires_grad=True),
        )
        adv.d(real_e, fake_e).backward()
        assert real_e.grad.sum() > 0 and fake_e.grad.sum() < 0
        g_e = torch.full((8,), 0.5, requires_grad=True)
        adv.g(g_e).backward()
        assert g_e.grad.sum() > 0  # G lowers its loss by lowering the energy of its samples
        assert losses.energy_g(torch.tensor([0.2, 0.4])).item() == pytest.approx(0.3)
        assert losses.energy_margin_d(torch.tensor([0.2]), torch.tensor([0.4])).item() == (
            pytest.approx(0.2 + 0.6)
        )
        return
    adv.d(real, fake).backward()
    assert real.grad.sum() < 0
    fake2 = torch.zeros(8, requires_grad=True)
    adv.g(fake2, torch.ones(8)).backward()
    assert fake2.grad.sum() < 0


def test_gradient_penalty_zero_for_unit_norm_linear_critic():
    critic = nn.Linear(5, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0, 0.0]]))
    x, y = torch.randn(32, 5), torch.randn(32, 5)
    f = lambda v: critic(v).squeeze(1)  # noqa: E731
    assert gradient_penalty(f, x, y).item() == pytest.approx(0.0, abs=1e-10)
    assert dragan_penalty(f, x).item() == pytest.approx(0.0, abs=1e-10)
    assert r1_penalty(f, x).item() == pytest.approx(1.0)
    with torch.no_grad():
        critic.weight.mul_(3)
    assert gradient_penalty(f, x, y).item() == pytest.approx(4.0)


def test_gradient_penalty_reaches_critic_weights():
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    gp = gradient_penalty(lambda v: critic(v).squeeze(1), torch.randn(16, 3), torch.randn(16, 3))
    gp.backward()
    assert critic[0].weight.grad is not None and critic[0].weight.grad.abs().sum() > 0


def test_clip_and_orthogonal():
    m = nn.Linear(4, 4)
    with torch.no_grad():
        m.weight.fill_(3.0)
    clip_weights(m, 0.01)
    assert m.weight.abs().max() <= 0.01
    q, _ = torch.linalg.qr(torch.randn(6, 6))
    assert orthogonal_penalty([q]).item() == pytest.approx(0.0, abs=1e-9)
    assert orthogonal_penalty([torch.ones(3, 3)], beta=1.0).item() == pytest.approx(6 * 9.0)
