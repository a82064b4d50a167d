"""The classic papers' presets (SNGAN, WGAN-GP, DCGAN, LSGAN, BEGAN, InfoGAN): forward FLOPs
against the official nets', the nets' layouts, the settings the presets promise, the uniform
latents, and a forward pass of each net family at a tiny size."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.nets import NETS
from ganarium.nets.dcgan import DCGANGenerator, UniformLatent
from ganarium.nets.sngan import DownBlock, UpBlock
from ganarium.presets import build_preset_recipe, load_preset

CLASSIC = [
    ("sngan", "cifar"),
    ("sngan", "stl-48"),
    ("sngan-resnet", "cifar"),
    ("sngan-resnet", "stl-48"),
    ("wgan-gp", "cifar-resnet"),
    ("dcgan", "lsun-64"),
    ("lsgan", "lsun"),
    ("began", "celeba-128"),
    ("infogan", "mnist"),
]


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        fn()
    return counter.get_total_flops()


def _forward_flops(recipe) -> dict[str, int]:
    """G's and D's forward FLOPs at batch 1 (meta tensors: shapes only, nothing computed)."""
    recipe.eval()
    G, D = recipe.G, recipe.D
    z = recipe.latent.sample(1, "meta")
    if recipe.latent.codes:  # InfoGAN's coded generator
        cat, cont = recipe.sample_codes(1, "meta")
        g = _flops(lambda: G(z, cat, cont))
    else:
        g = _flops(lambda: G(z))
    x = torch.zeros(1, *recipe.info.shape, device="meta")
    return {"G": g, "D": _flops(lambda: D(x))}


@pytest.mark.parametrize("recipe,preset", CLASSIC)
def test_forward_flops_match_the_official_nets(recipe: str, preset: str) -> None:
    official = load_preset(recipe, preset).official["flops"]
    built = _forward_flops(build_preset_recipe(recipe, preset))
    for player in ("G", "D"):
        assert built[player] == pytest.approx(official[player], rel=0.01), player


def _info(size: int, channels: int = 3) -> DataInfo:
    return DataInfo(name="t", shape=(channels, size, size))


def _strided(net: nn.Module, kind: type) -> int:
    return sum(1 for m in net.modules() if isinstance(m, kind) and m.stride == (2, 2))


@pytest.mark.parametrize("size", [32, 48])
def test_sngan_standard_cnn_layout(size: int) -> None:
    fam = NETS.get("sngan-cnn")
    G, D = fam.generator(_info(size), z_dim=128), fam.discriminator(_info(size), norm="spectral")
    assert _strided(G, nn.ConvTranspose2d) == 3 and _strided(D, nn.Conv2d) == 3
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [m.kernel_size[0] for m in convs] == [3, 4, 3, 4, 3, 4, 3]  # Table 3 (b)
    assert convs[-1].out_channels == 512 and D.feature_dim == 512 * (size // 8) ** 2


@pytest.mark.parametrize(
    "size,g_channels,d_blocks",
    [
        (32, [256, 256, 256], [(128, True), (128, True), (128, False), (128, False)]),
        (48, [256, 128, 64], [(64, True), (128, True), (256, True), (512, True), (1024, False)]),
    ],
)
def test_sngan_resnet_layout_per_resolution(size, g_channels, d_blocks) -> None:
    fam = NETS.get("sngan-resnet")
    G, D = fam.generator(_info(size)), fam.discriminator(_info(size))
    ups = [m for m in G.modules() if isinstance(m, UpBlock)]
    assert [b.conv2.out_channels for b in ups] == g_channels
    downs = [m for m in D.modules() if isinstance(m, DownBlock)]
    assert [(b.conv2.out_channels, b.downsample) for b in downs] == d_blocks
    # the CIFAR D ends at 8x8 (two down-samplings), the STL-48 D at 3x3
    assert G(torch.randn(2, 128)).shape == (2, 3, size, size)


def test_today_resnet_family_still_downsamples_three_times_at_32() -> None:
    """The default 'resnet' nets (the learning checks') are untouched by the paper's layout."""
    D = NETS.get("resnet").discriminator(_info(32), width=16)
    assert sum(1 for b in D.body.blocks if b.downsample) == 3


@pytest.mark.parametrize(
    "recipe,preset,uniform",
    [("began", "celeba-128", True), ("dcgan", "lsun-64", True), ("lsgan", "lsun", True),
     ("infogan", "mnist", True), ("sngan-resnet", "cifar", False)],
)  # fmt: skip
def test_latent_distribution_of_each_preset(recipe: str, preset: str, uniform: bool) -> None:
    latent = build_preset_recipe(recipe, preset).latent  # drawn on the CPU, nets on meta
    torch.manual_seed(0)
    z = latent.sample(4096, "cpu")
    if uniform:
        assert z.min() >= -1 and z.max() <= 1
        assert z.std().item() == pytest.approx(1 / 3**0.5, rel=0.05)  # U(-1, 1), not clipped N(0,1)
    else:
        assert z.abs().max() > 2.5


def test_uniform_latent_is_an_option_defaulting_to_gaussian() -> None:
    for name in ("dcgan", "lsgan", "began", "infogan"):
        assert RECIPES.get(name).defaults["z_dist"] == "normal"
    dcgan = RECIPES.get("dcgan")(_info(16), g_width=8, d_width=8, z_dim=8)
    assert isinstance(dcgan.G, DCGANGenerator)  # today's path: no wrapper
    wrapped = RECIPES.get("dcgan")(_info(16), g_width=8, d_width=8, z_dim=8, z_dist="uniform")
    assert isinstance(wrapped.G, UniformLatent)
    with pytest.raises(ConfigError):
        RECIPES.get("lsgan")(_info(16), z_dist="gaussian")


def test_wgan_gp_preset_settings_reach_the_optimizers_and_phases() -> None:
    recipe = build_preset_recipe("wgan-gp", "cifar-resnet")
    opts = recipe.configure_optimizers()
    for opt in opts.values():
        assert opt.param_groups[0]["lr"] == 2e-4 and opt.param_groups[0]["betas"] == (0.0, 0.9)
    d_phase = recipe.phases()[0]
    assert d_phase.repeat == 5 and recipe.hp.gp_weight == 10.0
    train = load_preset("wgan-gp", "cifar-resnet").train
    assert train == {"batch_size": 64, "steps": 100000, "lr_schedule": "linear", "ema_decay": 0.0}


def test_bad_layouts_fail_in_one_line() -> None:
    with pytest.raises(ConfigError, match="no layout"):
        NETS.get("sngan-resnet").generator(_info(40))
    with pytest.raises(ConfigError, match="8 \\* 2\\*\\*k"):
        NETS.get("began").generator(_info(28))
    with pytest.raises(ConfigError, match="choose one of autoencoder, began"):
        RECIPES.get("began")(_info(16), net="dcgan")


@pytest.mark.parametrize(
    "family,size,g_kw,d_kw",
    [
        ("sngan-cnn", 16, {"width": 8}, {"width": 8}),
        ("sngan-resnet", 16, {"width": 16}, {"width": 16}),
        ("wgan-gp-resnet", 16, {"width": 16}, {"width": 16, "norm": "layer"}),
        ("dcgan-paper", 16, {"width": 8}, {"width": 8}),
        ("lsgan-lsun", 28, {"width": 8}, {"width": 8}),
        ("began", 16, {"width": 8}, {"width": 8, "code_dim": 8}),
    ],
)
def test_each_family_runs_forward_and_backward_at_a_tiny_size(family, size, g_kw, d_kw) -> None:
    torch.manual_seed(0)
    fam = NETS.get(family)
    G = fam.generator(_info(size), z_dim=16, **g_kw)
    D = fam.discriminator(_info(size), **d_kw)
    x = G(torch.randn(4, 16))
    assert x.shape == (4, 3, size, size) and x.abs().max() <= 1
    out = D(x)
    assert out.shape == (4,) and torch.isfinite(out).all()
    out.mean().backward()
    assert all(p.grad is not None for p in G.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("recipe,preset", [("infogan", "mnist"), ("sngan-resnet", "cifar")])
def test_preset_recipe_trains_a_step_on_the_cpu(recipe: str, preset: str) -> None:
    torch.manual_seed(0)
    model = build_preset_recipe(recipe, preset, device="cpu")
    opts = model.configure_optimizers()
    batch = {"image": torch.rand(4, *model.info.shape) * 2 - 1}
    from ganarium.models import StepContext

    ctx = StepContext(step=0, total_steps=1, images_seen=0, repeat=0, batches={}, shared={})
    for phase in model.phases():
        loss, _ = phase.loss(batch, ctx)
        opts[phase.optimizer].zero_grad()
        loss.backward()
        opts[phase.optimizer].step()
        assert torch.isfinite(loss)
