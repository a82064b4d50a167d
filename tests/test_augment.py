"""Augmentation of what D sees (``model.augment``): the identity default, DiffAugment's ops and
ADA's adaptive probability, the switch on every recipe, and the kind of the slow 500-digit
check (``dcgan-diffaugment``: with augmentation against without; seeds in docs/style.md)."""

from types import SimpleNamespace

import pytest
import torch

from ganarium.augment import (
    AUGMENT_DEFAULTS,
    AdaptiveAugment,
    DiffAugment,
    Identity,
    diff_color,
    diff_cutout,
    diff_translation,
    make_augmenter,
)
from ganarium.errors import ConfigError


def _hp(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{**AUGMENT_DEFAULTS, **kw})


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_none_is_the_identity_and_holds_no_state():
    aug = make_augmenter(_hp())
    x = torch.randn(4, 1, 8, 8)
    assert isinstance(aug, Identity) and aug(x) is x and not aug.state_dict()


def test_unknown_augmentations_and_policies_are_refused_in_one_line():
    with pytest.raises(ConfigError, match="none, diffaugment, ada"):
        make_augmenter(_hp(augment="mixup"))
    with pytest.raises(ConfigError, match="color, translation, cutout"):
        make_augmenter(_hp(augment="diffaugment", augment_policy="color,flip"))
    with pytest.raises(ConfigError, match="ada_target"):
        make_augmenter(_hp(augment="ada", ada_target=1.5))


def test_diffaugment_ops_are_what_the_paper_says():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    moved = diff_translation(x)  # a single pixel moves by at most 2 (1/8 of 16) in x and y
    assert torch.allclose(moved.sum((1, 2, 3)), torch.ones(64))
    where = moved[:, 0].flatten(1).argmax(1)
    dy, dx = where // 16 - 8, where % 16 - 8
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2 and (dy != 0).any() and (dx != 0).any()
    ones = torch.ones(64, 1, 16, 16)
    cut = diff_cutout(ones)  # an 8x8 square (clipped at the border) set to 0
    zeros = (cut == 0).sum((1, 2, 3))
    assert zeros.max() == 64 and zeros.min() >= 16
    flat = torch.full((64, 1, 4, 4), 0.3)
    colored = diff_color(flat)  # a flat image stays flat; brightness moves it by < 0.5
    assert torch.allclose(colored.std((1, 2, 3)), torch.zeros(64), atol=1e-6)
    assert ((colored - flat).abs() < 0.5).all() and (colored - flat).abs().max() > 0.2


def test_diffaugment_strengths_are_configurable_and_validated():
    ones = torch.ones(64, 1, 16, 16)
    aug = make_augmenter(_hp(augment="diffaugment", augment_policy="cutout", augment_cutout=0.25))
    zeros = (aug(ones) == 0).sum((1, 2, 3))  # a 4x4 square, clipped at the border
    assert zeros.max() == 16 and zeros.min() >= 4
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    aug = make_augmenter(
        _hp(augment="diffaugment", augment_policy="translation", augment_translation=0.0625)
    )
    where = aug(x)[:, 0].flatten(1).argmax(1)  # shifts of at most 1 pixel (1/16 of 16)
    dy, dx = where // 16 - 8, where % 16 - 8
    assert dy.abs().max() == 1 and dx.abs().max() == 1
    no_cut = make_augmenter(_hp(augment="diffaugment", augment_policy="cutout", augment_cutout=0))
    assert torch.equal(no_cut(ones), ones)
    for bad in (dict(augment_translation=0.7), dict(augment_cutout=-0.1)):
        with pytest.raises(ConfigError, match="augment_"):
            make_augmenter(_hp(augment="diffaugment", **bad))


def test_diffaugment_is_differentiable_and_fresh_each_call():
    aug = DiffAugment()
    x = torch.rand(8, 1, 16, 16, requires_grad=True)
    a, b = aug(x), aug(x)
    assert a.shape == x.shape and not torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_ada_raises_p_while_d_is_overconfident_and_lowers_it_after():
    ada = AdaptiveAugment(target=0.6, interval=4, rampup=640)
    for _ in range(40):  # every real judged real: r_t = 1 > 0.6
        ada.observe(torch.ones(64))
    assert float(ada.r_t) == 1.0
    # 10 adjustments of 4 * 64 / 640 = 0.4 each: p saturates just below 1
    assert 0.99 < float(ada.p) < 1.0
    for _ in range(8):  # r_t = -1 < 0.6: two adjustments down
        ada.observe(-torch.ones(64))
    assert float(ada.p) == pytest.approx(1.0 - 0.8, abs=1e-3)
    for _ in range(3):  # no adjustment before the interval is complete
        ada.observe(torch.ones(64))
    assert float(ada.p) == pytest.approx(0.2, abs=1e-3)


def test_ada_state_is_in_the_checkpoint_and_p_zero_is_the_identity():
    ada = AdaptiveAugment(interval=1, rampup=64)
    x = torch.rand(16, 1, 16, 16) * 2 - 1
    assert torch.equal(ada(x), x)
    ada.observe(torch.ones(16))
    assert float(ada.p) > 0
    clone = AdaptiveAugment(interval=1, rampup=64)
    clone.load_state_dict(ada.state_dict())
    assert float(clone.p) == float(ada.p) and clone.learning_state() == ada.learning_state()


def test_ada_pipeline_is_differentiable_and_keeps_shape_and_range_roughly():
    ada = AdaptiveAugment(p=0.8)
    x = (torch.rand(32, 1, 16, 16) * 2 - 1).requires_grad_(True)
    y = ada(x)
    assert y.shape == x.shape and torch.isfinite(y).all() and not torch.equal(y, x)
    y.square().sum().backward()
    assert x.grad.abs().sum() > 0
    rgb = AdaptiveAugment(p=0.8)(torch.rand(4, 3, 8, 8))
    assert rgb.shape == (4, 3, 8, 8)


@pytest.mark.parametrize("augment", ["diffaugment", "ada"])
@pytest.mark.parametrize("recipe", ["dcgan", "progan", "stylegan2", "lapgan", "stackgan"])
def test_every_recipe_trains_with_augmentation(recipe, augment):
    from ganarium.checks import check_trainer

    model = {"augment": augment, "ada_rampup": 100, "ada_interval": 1}
    trainer = check_trainer(recipe, steps=3, model=model)[0]
    history = trainer.fit()
    assert torch.isfinite(torch.tensor([v for k, v in history[-1].items() if "loss" in k])).all()
    if augment == "ada":
        assert 0.0 <= float(trainer.recipe.augmenter.p) < 1.0
        assert "augmenter.p" in trainer.recipe.state_dict()  # checkpoints carry p
        assert {"ada_p", "ada_r_t"} <= set(history[-1])  # logged for any recipe


def test_the_augmentation_check_compares_with_the_same_net_trained_without_it():
    # the kind of dcgan-diffaugment's (slow) check on a 5-step budget: its baseline is the same
    # recipe and check trained with augment=none at the same seed, trained once and cached
    from dataclasses import replace

    from ganarium.checks import CHECK_KINDS, ablation_scores, check_trainer, measure_seeded
    from ganarium.checks.augment import _judge
    from ganarium.checks.core import _digits_measure
    from ganarium.models import RECIPES

    check = replace(RECIPES.meta("dcgan-diffaugment")["check"], steps=5)
    trainer, _, info = check_trainer("dcgan-diffaugment", check=check)
    assert trainer.recipe.hp.augment == "diffaugment"
    trainer.fit()
    kind = CHECK_KINDS.get(check.kind)
    after = measure_seeded(kind, trainer.recipe, info, check, seed=0)
    assert {"domain_fid", "unaugmented_fid", "unaugmented_classes"} <= set(after)

    seen = []

    def score(net):
        seen.append(net.hp.augment)
        return _digits_measure(net, info, check)

    with torch.random.fork_rng():
        torch.manual_seed(777)  # as measure_seeded does for seed 0
        again = ablation_scores(trainer.recipe, check, {"augment": "none"}, score)
    assert seen == []  # cached: the measure above trained this baseline
    assert again["domain_fid"] == after["unaugmented_fid"]
    with torch.random.fork_rng():
        torch.manual_seed(778)  # seed 1: a baseline of its own, trained without augmentation
        ablation_scores(trainer.recipe, check, {"augment": "none"}, score)
    assert seen == ["none"]

    bars = dict(check.bars)
    better = {**after, "domain_fid": 10.0, "unaugmented_fid": 10 + 2 * bars["margin"]}
    better["classes_covered"] = 10
    assert _judge({"domain_fid": 400.0}, better, bars) == []
    worse = {**better, "unaugmented_fid": 10 + bars["margin"] / 2}  # better by less than margin
    assert any("unaugmented" in f for f in _judge({"domain_fid": 400.0}, worse, bars))
