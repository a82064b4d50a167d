"""Every registered recipe, picked up from the registry: a few training steps, finite losses,
samples of the data's shape and range, and a checkpoint round trip that reproduces samples."""

import math

import pytest
import torch
from torch import nn

from ganarium.checks import learning_check
from ganarium.models import RECIPES, CapabilityError, StepContext
from ganarium.runs import load_recipe, start_run

RECIPE_NAMES = RECIPES.names()


def _overrides(name: str) -> tuple[str, list[str]]:
    check = learning_check(name)
    items = [f"data.{k}={v}" for k, v in check.data_options.items()]
    items += [f"model.{k}={v}".replace("(", "[").replace(")", "]") for k, v in check.model.items()]
    return check.data, items


def _softplus(v: float) -> float:
    return math.log1p(math.exp(v))


# The loss family: D's and G's loss when D outputs 0.5 for every input (its input gradient is 0,
# so a gradient penalty (||grad|| - 1)^2 adds its full weight), from each paper's definitions.
SP_UP, SP_DOWN = _softplus(0.5), _softplus(-0.5)  # -log(1 - D) and -log D at logit 0.5
LOSS_FAMILY = {
    "gan": (SP_DOWN + SP_UP, -SP_UP),  # minimax, saturating G: Goodfellow et al. 2014, Eq. 1
    "gan-ns": (SP_DOWN + SP_UP, SP_DOWN),  # G maximises log D (Sec. 3)
    "dcgan": (SP_DOWN + SP_UP, SP_DOWN),
    "lsgan": (0.5 * (0.5**2 + 0.5**2), 0.5 * 0.5**2),  # a=0, b=c=1: Mao et al. 2017, Eq. 9
    "wgan": (0.0, -0.5),  # E C(G(z)) - E C(x): Arjovsky et al. 2017
    "wgan-gp": ("gp", -0.5),  # + lambda (||grad|| - 1)^2: Gulrajani et al. 2017, Eq. 3
    "dragan": ("gp", SP_DOWN),  # non-saturating + the penalty around real data: Kodali et al.
    "sngan": (0.5 + 1.5, -0.5),  # hinge: Miyato et al. 2018
    "sngan-resnet": (0.5 + 1.5, -0.5),
}


class _ConstantD(nn.Module):
    """A D that says 0.5 whatever it sees (still a function of its input, for penalties)."""

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return 0.0 * x.flatten(1).sum(1) + 0.5


@pytest.mark.parametrize("name", sorted(LOSS_FAMILY))
def test_loss_family_recipes_train_with_their_papers_losses(name):
    from ganarium.checks import check_trainer

    trainer = check_trainer(name, steps=1)[0]
    recipe, batch, ctx = trainer.recipe, next(trainer.stream), StepContext(0, 1)
    want_d, want_g = LOSS_FAMILY[name]
    if want_d == "gp":
        want_d = recipe.hp.gp_weight + (SP_DOWN + SP_UP if name == "dragan" else 0.0)
    recipe.D = _ConstantD()
    assert recipe.d_loss(batch, ctx)[0].item() == pytest.approx(want_d, abs=1e-5)
    assert recipe.g_loss(batch, ctx)[0].item() == pytest.approx(want_g, abs=1e-5)


@pytest.mark.parametrize("name", sorted(LOSS_FAMILY))
def test_only_wgan_clips_d_and_only_sngan_normalises_its_spectrum(name):
    """WGAN clips D's weights after each D step (Arjovsky et al. 2017, Alg. 1); SNGAN divides
    each weight by its spectral norm (Miyato et al. 2018), so scaling the weights leaves D's
    output as it was. Neither holds for the other members of the family."""
    from ganarium.checks import check_trainer

    trainer = check_trainer(name, steps=1)[0]
    recipe, x = trainer.recipe.eval(), next(trainer.stream)["image"][:8]
    weights = [p for k, p in recipe.D.named_parameters() if k.endswith(("weight", "original"))]
    with torch.no_grad():
        before = recipe.D(x)
        for p in weights:
            p.mul_(100.0)
        scale_free = torch.allclose(recipe.D(x), before, rtol=1e-4, atol=1e-5)
    assert scale_free == name.startswith("sngan")
    with torch.no_grad():
        for p in recipe.D.parameters():
            p.fill_(1.0)
    (d_phase,) = [ph for ph in trainer.phases if ph.optimizer == "D"]
    d_phase.after(StepContext(0, 1))
    largest = max(p.abs().max().item() for p in recipe.D.parameters())
    assert largest == pytest.approx(recipe.hp.clip if name == "wgan" else 1.0)


@pytest.mark.parametrize("name", RECIPE_NAMES)
def test_recipe_metadata_and_check(name):
    meta = RECIPES.meta(name)
    assert "augment" in RECIPES.get(name).defaults, f"{name} must accept model.augment"
    undocumented = [k for k, v in RECIPES.get(name).describe_hparams().items() if not v]
    assert not undocumented, f"{name}: add hparam_help lines for {undocumented}"
    assert meta["paper"] and 2013 <= meta["year"] <= 2026 and meta["family"]
    check = learning_check(name)
    assert check.steps > 0 and check.bars, f"{name} needs a learning check with bars"
    assert RECIPES.get(name).__doc__, f"{name} needs a docstring citing its paper"


@pytest.mark.parametrize("name", RECIPE_NAMES)
def test_recipe_trains_samples_and_round_trips(name, tmp_path, tiny_overrides):
    data, items = _overrides(name)
    trainer = start_run(name, data, items + tiny_overrides, run_dir=str(tmp_path / "run"))
    history = trainer.fit()
    assert trainer.step == 4 and history
    losses = [v for r in history for k, v in r.items() if k.startswith("loss/")]
    assert losses and all(math.isfinite(v) for v in losses)

    recipe = trainer.recipe
    torch.manual_seed(1)
    x = recipe.generate(6)
    info = recipe.info
    assert x.shape == (6, *info.shape)
    assert torch.isfinite(x).all()
    if info.value_range is not None:
        lo, hi = info.value_range
        assert x.min() >= lo - 1e-5 and x.max() <= hi + 1e-5

    loaded = load_recipe(tmp_path / "run")
    torch.manual_seed(1)
    recipe.eval()
    x1 = recipe.generate(6)
    torch.manual_seed(1)
    x2 = loaded.generate(6)
    assert torch.allclose(x1, x2, atol=1e-6), "a reloaded checkpoint must reproduce the samples"
    if info.kind == "image":
        assert (tmp_path / "run" / "samples" / "step_000004.png").exists()
    check_declared_capabilities(loaded)


def check_declared_capabilities(recipe) -> None:
    """What ``capabilities()`` declares works; what it does not declare refuses in one line."""
    caps, info = recipe.capabilities(), recipe.info
    shape = (3, *info.shape)
    images = torch.rand(3, *info.shape) * 2 - 1
    offered = {
        "conditional": lambda: recipe.generate(3, labels=torch.tensor([0, 1, 1])),
        "latent_dim": lambda: recipe.decode(torch.randn(3, caps.latent_dim)),
        "truncation": lambda: recipe.generate(3, truncation=0.5),
        "codes": lambda: [recipe.code_traversal(c, steps=2)[0][:3] for c in caps.codes][-1],
        "encode": lambda: recipe.reconstruct(images),
        "edit": lambda: recipe.edit(images, 1),
        "classifier": lambda: recipe.classifier().eval()(images),
    }
    refused = {
        "latent_dim": lambda: recipe.decode(torch.randn(3, 4)),
        "codes": lambda: recipe.code_traversal("c1"),
        "encode": lambda: recipe.reconstruct(images),
        "edit": lambda: recipe.edit(images, 1),
        "classifier": lambda: recipe.classifier(),
        "translate": lambda: recipe.translate(images),
        "mixing": lambda: recipe.style_mixing(),
        "captions": lambda: recipe.generate_from_captions(["a 7"]),
        "instances": lambda: recipe.generate_from_instances(images, 2),
        "canvas": lambda: recipe.canvas_steps(2),
    }
    for name, call in offered.items():
        if not getattr(caps, name):
            continue
        out = call()
        want = (3, info.num_classes) if name == "classifier" else shape
        assert out.shape == want and torch.isfinite(out).all(), name
    for name, call in refused.items():
        if not getattr(caps, name):
            with pytest.raises(CapabilityError, match="does not offer"):
                call()
    if caps.translate:  # every direction, on inputs of the source side at a size the data lacks
        from ganarium.data.paired import side_shapes

        shape_a, shape_b = side_shapes(info)
        for direction in caps.translate:
            src, dst = (shape_a, shape_b) if direction == "AtoB" else (shape_b, shape_a)
            x = torch.rand(2, src[0], src[1] + 3, src[2] + 5) * 2 - 1
            with torch.no_grad():
                y = recipe.translate(x, direction)
            assert y.shape[0] == 2 and y.shape[1] == dst[0], direction
            assert torch.isfinite(y).all() and y.abs().max() <= 1 + 1e-5, direction
    if caps.latent_dim:  # decode is differentiable in z and, with no codes drawn, is generate(z=)
        z = torch.randn(3, caps.latent_dim, requires_grad=True)
        recipe.decode(z).sum().backward()
        assert z.grad is not None and z.grad.abs().sum() > 0
        if not caps.codes:
            torch.testing.assert_close(recipe.generate(3, z=z.detach()), recipe.decode(z.detach()))
        walk = recipe.interpolate(4)
        assert walk.shape == (4, *info.shape) and torch.isfinite(walk).all()
