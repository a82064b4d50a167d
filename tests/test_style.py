"""The progressive, style-based and multi-stage recipes beyond the conformance test: growth read
from the step (so resumes land at the right stage), style mixing and truncation in W, lazy
phases, LAPGAN's per-level losses and coarse-to-fine sampling, StackGAN's captions. Their
learning checks run in test_learning.py."""

import pytest
import torch
import torch.nn.functional as F

from ganarium.checks import check_trainer
from ganarium.errors import ConfigError
from ganarium.models import StepContext

TINY_STYLE = dict(z_dim=8, w_dim=8, mapping_layers=2, width=8)


def _trained(name: str, steps: int = 2, **model):
    trainer = check_trainer(name, steps=steps, model=model)[0]
    history = trainer.fit()
    return trainer, history


def test_progan_stage_comes_from_the_step_and_is_reported():
    model = dict(z_dim=8, width=8, fade_steps=2, stable_steps=1)
    trainer, history = _trained("progan", 6, **model)
    recipe = trainer.recipe
    assert recipe.capabilities().signals == ("resolution", "alpha")
    # level 0 for 1 step; level 1 fades over steps 1-2, alone at 3; level 2 fades from step 4
    seen = [recipe.stage(StepContext(step, 6)) for step in range(7)]
    assert seen == [(0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (2, 0.0), (2, 0.5), (2, 1.0)]
    assert history[-1]["resolution"] == 16.0 and "alpha" in history[-1]
    # nothing but the step is needed: a fresh recipe told step 5 (a resume) is at that stage
    fresh = check_trainer("progan", steps=6, model=model)[0].recipe
    assert fresh.stage(StepContext(5, 6)) == (2, 0.5)
    assert fresh.learning_state()["resolution"] == 16.0
    # automatic lengths split train.steps into 2 * levels - 1 equal stretches
    auto = check_trainer(
        "progan", steps=10, model=dict(z_dim=8, width=8, fade_steps=0, stable_steps=0)
    )
    assert auto[0].recipe.schedule(10) == type(auto[0].recipe.schedule(10))(3, 2, 2)


def test_progan_samples_a_lower_level_upsampled_to_the_data_size():
    trainer, _ = _trained("progan", 1, z_dim=8, width=8, fade_steps=5, stable_steps=5)
    recipe = trainer.recipe
    assert int(recipe.level) == 0
    x = recipe.generate(2)
    assert x.shape == (2, 1, 16, 16)
    # nearest upsampling of a 4x4 image: 4x4 blocks of equal pixels
    torch.testing.assert_close(x, F.interpolate(x[:, :, ::4, ::4], scale_factor=4))


@pytest.mark.parametrize("name", ["stylegan", "stylegan2"])
def test_style_mixing_grid_and_truncation_in_w(name):
    trainer, _ = _trained(name, 2, **TINY_STYLE)
    recipe = trainer.recipe
    torch.manual_seed(0)
    grid, nrow = recipe.style_mixing(rows=2, cols=3)
    assert grid.shape == (12, 1, 16, 16) and nrow == 4
    assert grid.min() >= -1 and grid.max() <= 1
    z = torch.randn(4, 8)
    # mixing a latent with itself gives its own image
    torch.testing.assert_close(recipe.mix(z, z), recipe.decode(z))
    # psi 0 sends every latent to the mean w: one image
    flat = recipe.generate(4, z=z, truncation=0.0)
    torch.testing.assert_close(flat, flat[:1].expand_as(flat))
    torch.testing.assert_close(recipe.generate(4, z=z, truncation=1.0), recipe.decode(z))
    walk = recipe.interpolate(5, seeds=(3, 4))
    start = torch.randn(1, 8, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(walk[:1], recipe.decode(start))


def test_stylegan2_regularizes_lazily_in_phases_with_intervals():
    trainer, history = _trained("stylegan2", 5, **TINY_STYLE)
    every = {ph.name: ph.every for ph in trainer.phases}
    assert every == {"D": 1, "R1": 16, "G": 1, "PL": 4}
    logged = [sorted(k for k in r if k in ("loss/R1", "loss/PL")) for r in history]
    assert logged == [["loss/PL", "loss/R1"], [], [], [], ["loss/PL"]]  # steps 0 and 4: PL
    assert "pl_mean" in history[-1]
    assert float(trainer.recipe.pl_mean) > 0


def test_lapgan_logs_each_level_and_samples_coarse_to_fine():
    trainer, history = _trained("lapgan", 2, z_dim=8, g_width=8, d_width=8)
    assert {"loss/D8", "loss/G8", "loss/D16", "loss/G16"} <= set(history[-1])
    recipe = trainer.recipe
    z = torch.randn(3, recipe.capabilities().latent_dim)
    coarse, fine = recipe.pyramid(z)
    assert coarse.shape == (3, 1, 8, 8) and fine.shape == (3, 1, 16, 16)
    torch.testing.assert_close(recipe.decode(z), fine)
    # the finest level refines the upsampled coarse image: change only its noise plane and
    # the coarse sample stays while the fine one changes
    z2 = z.clone()
    z2[:, 8:] = torch.randn_like(z2[:, 8:])
    coarse2, fine2 = recipe.pyramid(z2)
    torch.testing.assert_close(coarse2, coarse)
    assert not torch.allclose(fine2, fine)


def test_stackgan_reads_captions_and_refuses_unknown_words():
    trainer, history = _trained(
        "stackgan", 2, z_dim=8, c_dim=4, embedding_dim=8, g_width=8, d_width=8
    )
    recipe = trainer.recipe
    assert {"loss/T", "loss/D1", "loss/G1", "loss/D2", "loss/G2", "G1/kl"} <= set(history[-1])
    vocab = recipe.caption_vocabulary()
    assert {"thick", "thin", "leaning", "right", "7"} <= set(vocab) and "<pad>" not in vocab
    x = recipe.generate_from_captions(["a thick 7 leaning right", "a thin seven upright"])
    assert x.shape == (2, 1, 16, 16) and x.min() >= -1 and x.max() <= 1
    with pytest.raises(ConfigError, match="unknown word 'fat'.*thick"):
        recipe.generate_from_captions(["a fat 7"])
    low, high = recipe.sample_stages(recipe.tokens(["a 3 upright"]), torch.randn(1, 16))
    assert low.shape == (1, 1, 8, 8) and high.shape == (1, 1, 16, 16)


def test_digit_captions_describe_what_the_images_show():
    from ganarium.data.captions import VOCABULARY, digit_captions, stroke_slant, stroke_thickness

    data = digit_captions(split="test", size=28)
    t = data.tensors
    words = [[VOCABULARY[i] for i in row if i] for row in t["caption"][:50].tolist()]
    assert all(str(int(y)) in w for y, w in zip(t["label"][:50], words))
    thick = stroke_thickness(t["image"])
    assert thick[t["thickness"] == 2].mean() > thick[t["thickness"] == 0].mean() + 1
    slant = stroke_slant(t["image"])
    assert slant[t["slant"] == 2].mean() > slant[t["slant"] == 0].mean()
    right = [w for w, s in zip(words, t["slant"][:50]) if s == 2]
    assert all("right" in w for w in right)


def test_digits_limit_keeps_a_balanced_prefix():
    from ganarium.data.digits import digits

    small = digits(size=16, limit=500)
    assert len(small) == 500
    assert torch.bincount(small.tensors["label"]).tolist() == [50] * 10
    assert torch.equal(digits(size=16, limit=20).tensors["image"], small.tensors["image"][:20])


LATENT_RECIPES = {
    "stylegan": TINY_STYLE,
    "progan": dict(z_dim=8, width=8),
    "lapgan": dict(z_dim=8, g_width=8, d_width=8),
    "stackgan": dict(z_dim=8, c_dim=4, embedding_dim=8, g_width=8, d_width=8),
    "cogan": dict(z_dim=8, g_width=8, d_width=8),
}


@pytest.mark.parametrize("name", sorted(LATENT_RECIPES))
def test_samples_are_decoded_draws_of_the_recipes_latent(name):
    recipe = check_trainer(name, steps=1, model=LATENT_RECIPES[name])[0].recipe
    assert recipe.capabilities().latent_dim == recipe.latent.dim
    torch.manual_seed(0)
    drawn = recipe.generate(3)
    torch.manual_seed(0)
    z = recipe.latent.sample(3, recipe.device)
    assert z.shape == (3, recipe.latent.dim)
    torch.testing.assert_close(drawn, recipe.decode(z))
    # decode puts the nets back in training mode
    assert all(net.training for net in recipe.nets().values())


def test_lapgan_and_stackgan_train_each_declared_player_in_its_own_phase():
    lap = check_trainer("lapgan", steps=1, model=LATENT_RECIPES["lapgan"])[0]
    assert list(lap.recipe.players()) == ["D8", "G8", "D16", "G16"]
    assert [ph.name for ph in lap.phases] == ["D8", "G8", "D16", "G16"]
    assert [ph.batch for ph in lap.phases] == [None, "D8", "D8", "D8"]
    assert [spec.dim for spec in lap.recipe.level_latents] == [8, 16 * 16]
    stack = check_trainer("stackgan", steps=1, model=LATENT_RECIPES["stackgan"])[0]
    assert list(stack.recipe.players()) == ["D1", "G1", "D2", "G2"]
    assert [ph.name for ph in stack.phases] == ["T", "D1", "G1", "D2", "G2"]
    for trainer in (lap, stack):
        opts = trainer.recipe.configure_optimizers()
        for name, net in trainer.recipe.players().items():
            params = {id(p) for group in opts[name].param_groups for p in group["params"]}
            assert params == {id(p) for p in net.parameters()}, name


def test_cogan_pairs_share_their_latent_and_refuse_labels():
    recipe = check_trainer("cogan", steps=1, model=LATENT_RECIPES["cogan"])[0].recipe
    assert recipe.capabilities().pairs
    z = recipe.latent.sample(2)
    a, b = recipe.generate_pairs(2, z=z)
    torch.testing.assert_close(a, recipe.decode(z))
    preview = recipe.preview(8)
    assert preview.nrow == 8 and preview.images.shape == (8, 1, 16, 16)
    with pytest.raises(ConfigError, match="cogan is unconditional"):
        check_trainer("cogan", steps=1, model=dict(conditional=True))


@pytest.mark.parametrize(
    "name,model,match",
    [
        ("stylegan", dict(r1_every=0), "r1_every"),
        ("stylegan", dict(mixing_prob=1.5), "mixing_prob"),
        ("stylegan", dict(blur_size=1), "blur_size"),
        ("stylegan2", dict(d_architecture="skip", layout="official"), "d_architecture"),
        ("stylegan2", dict(mbstd_channels=2), "layout=official"),
        ("progan", dict(fade_steps=-1), "fade_steps"),
        ("progan", dict(level_lr="16=0"), "level_lr"),
    ],
)
def test_style_options_are_refused_in_one_line_before_any_net_is_built(name, model, match):
    from ganarium.models import RECIPES

    with pytest.raises(ConfigError, match=match):
        RECIPES.get(name).Hparams.from_config(name, model)
