"""Every registered recipe, picked up from the registry: a few training steps, finite losses,
samples of the data's shape and range, and a checkpoint round trip that reproduces samples."""

import math

import pytest
import torch
from torch import nn

from ganarium.capabilities import CAPABILITIES
from ganarium.checks import learning_check
from ganarium.data import DataInfo, load_dataset
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

    recipe, info = trainer.recipe, trainer.recipe.info
    # what the recipe makes: samples, or a translator's outputs for fixed inputs (it has no noise)
    if recipe.capabilities().translate:
        from ganarium.data.paired import side_shapes

        inputs = torch.rand(6, *side_shapes(info)[0], generator=torch.Generator().manual_seed(1))
        make = lambda r: r.translate((inputs * 2 - 1).to(r.device)).float().cpu()  # noqa: E731
        with pytest.raises(CapabilityError, match="translates images"):
            recipe.generate(6)
    else:
        make = lambda r: r.generate(6)  # noqa: E731
        torch.manual_seed(1)
        x = make(recipe)
        assert x.shape == (6, *info.shape)
        assert torch.isfinite(x).all()
        if info.value_range is not None:
            lo, hi = info.value_range
            assert x.min() >= lo - 1e-5 and x.max() <= hi + 1e-5

    loaded = load_recipe(tmp_path / "run")
    torch.manual_seed(1)
    recipe.eval()
    with torch.no_grad():
        x1 = make(recipe)
        torch.manual_seed(1)
        x2 = make(loaded)
    assert torch.allclose(x1, x2, atol=1e-6), "a reloaded checkpoint must reproduce the samples"
    if info.kind == "image":
        assert (tmp_path / "run" / "samples" / "step_000004.png").exists()
    check_declared_capabilities(loaded)


def check_declared_capabilities(recipe) -> None:
    """Every capability ``capabilities()`` declares passes its registered probe
    (ganarium.capabilities); every other one refuses in one line through ``recipe.require``."""
    caps = recipe.capabilities()
    for name in CAPABILITIES.names():
        if name in caps.offered():
            CAPABILITIES.get(name).probe(recipe)
        else:
            with pytest.raises(CapabilityError, match="does not offer"):
                recipe.require(name)


def test_probes_catch_a_capability_that_does_not_do_what_it_declares():
    """A recipe declaring truncation whose truncation changes nothing fails the probe."""

    class Flat:
        name, device = "flat", torch.device("cpu")
        info = DataInfo("flat", (1, 4, 4))

        def generate(self, n, truncation=None):
            return torch.zeros(n, 1, 4, 4)

    with pytest.raises(AssertionError, match="changed nothing"):
        CAPABILITIES.get("truncation").probe(Flat())


def test_a_new_capability_module_shows_in_sample_and_info(capsys):
    """Registering a Capability is all a new family needs: its flag appears in `ganarium
    sample --help`, its line in `ganarium info` for a recipe offering it, and its probe runs."""
    from ganarium.capabilities import Capability, register_capability
    from ganarium.cli import main

    probed = []

    @register_capability
    class ThrowawayCapability(Capability):
        name = "throwaway"
        mixin = object  # every recipe is an object, so every recipe offers it
        doc = "a throwaway capability registered by a test"

        def add_arguments(self, parser):
            parser.add_argument("--throwaway", action="store_true", help="a throwaway grid")

        def probe(self, recipe):
            probed.append(recipe.name)

    try:
        with pytest.raises(SystemExit):
            main(["sample", "--help"])
        assert "--throwaway" in capsys.readouterr().out
        assert main(["info", "dcgan"]) == 0
        out = capsys.readouterr().out
        assert "throwaway" in out.split("offers: ")[1].splitlines()[0]
        assert "a throwaway capability registered by a test" in out
        recipe = RECIPES.get("dcgan")(load_dataset("ring8", n=64).info)
        check_declared_capabilities(recipe)
        assert probed == ["dcgan"]
    finally:
        CAPABILITIES._items.pop("throwaway", None)
        CAPABILITIES._meta.pop("throwaway", None)
    assert "throwaway" not in CAPABILITIES


def test_every_capability_has_a_doc_line_and_its_flags_a_page_control():
    kinds = {"slider", "number", "dropdown", "text", "image", "checkbox"}
    for name in CAPABILITIES.names():
        cap = CAPABILITIES.get(name)
        assert cap.doc and "\n" not in cap.doc, name
        if cap.flag() is not None or cap.replaces_sampling:
            assert cap.control is not None and cap.control.kind in kinds, name
