"""Augmentation of what D sees (``model.augment``): the identity default, DiffAugment's ops and
ADA's adaptive probability, the switch on every recipe with a discriminator, and the kind of the
slow 500-digit check (``dcgan-diffaugment``: with augmentation against without; seeds in
docs/style.md)."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from ganarium.errors import ConfigError
from ganarium.models import RECIPES, StepContext
from ganarium.techniques.augment import (
    AUGMENT_DEFAULTS,
    AdaptiveAugment,
    DiffAugment,
    Identity,
    diff_color,
    diff_cutout,
    diff_translation,
    make_augmenter,
)


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


# Recipes without a discriminator: model.augment is accepted (every recipe takes the switch) but
# nothing could be augmented, so it does nothing there.
NO_DISCRIMINATOR = ("draw", "vae")


class _Spy(nn.Module):
    """Wraps a recipe's augmenter: records what goes through it and counts D's real scores fed
    back to it; with ``poison`` it hands NaNs on instead, to show D's loss is computed from its
    output rather than beside it."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.seen, self.observed, self.poison = inner, [], 0, False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape))
        return x + float("nan") if self.poison else self.inner(x)  # NaNs still depend on x

    def observe(self, d_real: torch.Tensor) -> None:
        self.observed += 1
        self.inner.observe(d_real)

    def learning_state(self) -> dict[str, float]:
        return self.inner.learning_state()


def _recipe_param(name: str):
    if name in NO_DISCRIMINATOR:
        reason = f"{name} has no discriminator: model.augment is accepted and does nothing"
        return pytest.param(name, marks=pytest.mark.xfail(reason=reason, strict=True), id=name)
    return pytest.param(name, id=name)


@pytest.mark.parametrize("name", [_recipe_param(n) for n in RECIPES.names()])
def test_every_recipe_feeds_its_discriminator_through_the_augmenter(name):
    """Construction at the check's settings with augment=ada, then one pass over the step's
    phases (no training): D's inputs go through ``recipe.augmenter``, D's loss depends on what it
    returns, D's real scores reach ADA's feedback, and ADA's p is checkpointed and logged."""
    from ganarium.checks import check_trainer, learning_check
    from ganarium.data import dataset_info, load_dataset
    from ganarium.errors import ConfigError

    check = learning_check(name)
    if dataset_info(load_dataset(check.data, **check.data_options)).kind != "image":
        with pytest.raises(ConfigError, match="augments images, but .* holds vectors"):
            check_trainer(name, steps=1, model={"augment": "ada"})  # refused in one line
        return
    trainer = check_trainer(name, steps=1, model={"augment": "ada", "ada_interval": 1})[0]
    recipe = trainer.recipe
    assert isinstance(recipe.augmenter, AdaptiveAugment)
    assert "augmenter.p" in recipe.state_dict()  # checkpoints carry p
    assert {"ada_p", "ada_r_t"} <= set(recipe.logged_state())  # logged for any recipe
    recipe.augmenter = spy = _Spy(recipe.augmenter)
    batch, ctx = next(trainer.stream), StepContext(0, 1)
    fed = None
    for phase in trainer.phases:  # until D has seen augmented input and fed back its scores
        ctx.batches[phase.name] = batch
        before = len(spy.seen)
        phase.loss(batch, ctx)
        fed = fed or (phase if len(spy.seen) > before else None)
        if fed and spy.observed:
            break
    assert fed is not None, f"no phase of {name} passes D's input through recipe.augmenter"
    assert spy.observed, f"{name} never feeds D's real scores to augmenter.observe"
    assert all(len(shape) == 1 + len(recipe.info.shape) for shape in spy.seen)
    spy.poison = True
    loss = fed.loss(batch, ctx)[0]
    assert not torch.isfinite(loss), f"{name}'s {fed.name} loss ignores the augmented images"


@pytest.mark.parametrize("augment", ["diffaugment", "ada"])
def test_training_with_augmentation_logs_adas_state(augment):
    from ganarium.checks import check_trainer

    model = {"augment": augment, "ada_rampup": 100, "ada_interval": 1}
    trainer = check_trainer("dcgan", steps=3, model=model)[0]
    history = trainer.fit()
    assert torch.isfinite(torch.tensor([v for k, v in history[-1].items() if "loss" in k])).all()
    # the Trainer logs ADA's state (DiffAugment has none), as it is at the end of the step
    assert ({"ada_p", "ada_r_t"} <= set(history[-1])) == (augment == "ada")
    if augment == "ada":
        assert history[-1]["ada_p"] == pytest.approx(float(trainer.recipe.augmenter.p))


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
