"""BigGAN, BigGAN-deep and SAGAN presets: the authors' nets at their FLOPs, pooled attention,
spectral norm on the conditional-BN linears, standing statistics, small forward passes."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.utils.flop_counter import FlopCounterMode

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.models.biggan import BigGAN
from ganarium.nets.biggan_official import OfficialBigGANGenerator, attention_set
from ganarium.nn.attention import SelfAttention
from ganarium.nn.cond_bn import ConditionalBatchNorm2d
from ganarium.presets import build_preset_recipe, load_preset

PRESETS = [
    ("biggan", "imagenet-128"),
    ("biggan", "cifar"),
    ("biggan-deep", "imagenet-128"),
    ("sagan", "imagenet-128"),
]


@functools.cache
def built(recipe: str, name: str):
    """A preset's recipe on the meta device, built once per session (spectral norm's power
    iterations at registration make a meta build take seconds)."""
    return build_preset_recipe(recipe, name)


def forward_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.slow
@pytest.mark.parametrize("recipe,name", PRESETS)
def test_preset_forward_flops_match_the_official_nets(recipe, name):
    """G from (z, y) and D on (x, y) at batch 1, on the meta device, within 1% of the FLOPs
    counted on BigGAN-PyTorch's nets (spectral-norm power iterations excluded in both)."""
    preset = load_preset(recipe, name)
    rec = built(recipe, name)
    res = preset.info["shape"][-1]
    with torch.device("meta"):
        z, y = torch.randn(1, rec.G.z_dim), torch.zeros(1, dtype=torch.long)
        x = torch.randn(1, 3, res, res)
        flops = {"G": forward_flops(lambda: rec.G(z, y)), "D": forward_flops(lambda: rec.D(x, y))}
    for player, official in preset.official["flops"].items():
        assert flops[player] == pytest.approx(official, rel=0.01), player


@pytest.mark.slow
def test_imagenet_preset_settings_reach_the_nets_and_optimizers():
    rec = built("biggan", "imagenet-128")
    assert rec.G.z_dim == 120 and rec.G.chunk == 20  # hierarchical z: 6 chunks of 20
    assert rec.G.shared.weight.shape == (1000, 128)
    # every block's CBN reads [shared(y), z chunk]
    cbn = [m for m in rec.G.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert cbn and all(m.gain.in_features == 148 for m in cbn)
    for opt in rec.configure_optimizers().values():
        assert opt.param_groups[0]["eps"] == 1e-6
        assert opt.param_groups[0]["betas"] == (0.0, 0.999)
    preset = load_preset("biggan", "imagenet-128")
    assert preset.train["batch_size"] == 2048 and preset.train["accumulate"] == 8


@pytest.mark.slow
def test_attention_is_pooled_at_64_with_the_official_channel_divisions():
    rec = built("biggan", "imagenet-128")
    attn = list(rec.G.attn.values()) + [m for m in rec.D.modules() if isinstance(m, SelfAttention)]
    assert len(attn) == 2 and all(a.pooled for a in attn)
    g_attn = attn[0]  # G's block at 64x64 has 2 * 96 channels
    assert g_attn.f.weight.shape[:2] == (24, 192) and g_attn.h.weight.shape[:2] == (96, 192)
    assert g_attn.v.weight.shape[:2] == (192, 96)


def test_pooled_attention_attends_to_a_quarter_of_the_positions():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 8, 8)
    pooled, full = SelfAttention(16, pooled=True), SelfAttention(16)
    assert pooled.attention_map(x).shape == (2, 64, 16)
    assert full.attention_map(x).shape == (2, 64, 64)
    nn.init.ones_(pooled.gamma)
    out = pooled(x)
    assert out.shape == x.shape and not torch.allclose(out, x)
    # keys and values are the 2x2 maxima: with non-negative weights and inputs, lowering a
    # position that another one in its window dominates leaves every other query's output alone
    with torch.no_grad():
        pooled.g.parametrizations.weight.original.abs_()
        pooled.h.parametrizations.weight.original.abs_()
    xp = x.abs()
    xp[:, :, 0, 1] = xp[:, :, 0:2, 0:2].amax((2, 3)) + 1
    xq = xp.clone()
    xq[:, :, 0, 0] *= 0.5
    pooled.eval()
    assert torch.equal(pooled.attention_map(xp)[:, 1:], pooled.attention_map(xq)[:, 1:])


@pytest.mark.slow
def test_spectral_norm_on_the_shared_cbn_linears_and_tables_without_sharing():
    imagenet = built("biggan", "imagenet-128")
    cbn = [m for m in imagenet.G.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(cbn) == 10
    for m in cbn:
        for lin in (m.gain, m.bias):
            assert isinstance(lin, nn.Linear) and lin.bias is None
            assert parametrize.is_parametrized(lin, "weight")
    cifar = built("biggan", "cifar")
    for m in cifar.G.modules():
        if isinstance(m, ConditionalBatchNorm2d):
            assert isinstance(m.gain, nn.Embedding) and m.gain.weight.shape[0] == 10
    # the default CBN stays as it was: plain zero-initialised linears
    plain = ConditionalBatchNorm2d(8, cond_dim=4)
    assert not parametrize.is_parametrized(plain.gain, "weight")
    assert not plain.gain.weight.any()


def test_spectral_norm_bounds_the_cbn_gain_linear():
    torch.manual_seed(0)
    m = ConditionalBatchNorm2d(8, cond_dim=4, spectral=True)
    with torch.no_grad():
        m.gain.parametrizations.weight.original.mul_(50)
    for _ in range(30):  # power iterations run in train mode
        m.gain(torch.randn(2, 4))
    sigma = torch.linalg.matrix_norm(m.gain.weight.detach(), ord=2)
    assert sigma == pytest.approx(1.0, abs=1e-3)


def tiny_biggan(**model) -> BigGAN:
    info = DataInfo(name="tiny", shape=(3, 32, 32), num_classes=3)
    opts = dict(arch="official", g_width=2, d_width=2, z_dim=16, shared_dim=4, **model)
    torch.manual_seed(0)
    return RECIPES.get("biggan")(info, **opts)


@pytest.mark.parametrize("init", ["ortho", "N02", "xavier"])
def test_fresh_official_nets_normalise_by_their_initialised_weights(init):
    """After the authors' init, each spectral norm's vectors belong to the new weights, so an
    eval-mode forward of a fresh net (sampling before any training step) divides by sigma."""
    rec = tiny_biggan(init=init).eval()
    layers = [m for m in rec.modules() if parametrize.is_parametrized(m, "weight")]
    assert len(layers) > 20
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().reshape(m.weight.shape[0], -1), ord=2)
        assert 0.99 < sigma < 1.1
    assert torch.isfinite(rec.generate(4)).all()


def test_standing_stats_average_batch_statistics_and_leave_weights_alone():
    rec = tiny_biggan(standing_stats=5, standing_batch=6)
    G = rec.net_for_sampling("G")
    G.train()
    G(
        rec.latent.sample(4, "cpu"), torch.tensor([0, 1, 2, 0])
    )  # running stats from one training batch
    before = {k: v.clone() for k, v in G.state_dict().items()}
    seen: list[torch.Tensor] = []
    hook = G.out_norm.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    rec.generate(4)
    hook.remove()
    # the out norm's statistics are the equal-weight mean over the 5 passes' batch statistics
    passes = seen[:5]
    assert len(seen) == 6 and all(len(s) == 6 for s in passes)  # 5 passes, then the samples
    mean = torch.stack([s.mean((0, 2, 3)) for s in passes]).mean(0)
    var = torch.stack([s.var((0, 2, 3), unbiased=True) for s in passes]).mean(0)
    assert torch.allclose(G.out_norm.running_mean, mean, atol=1e-6)
    assert torch.allclose(G.out_norm.running_var, var, atol=1e-5)
    after = G.state_dict()
    stats = [k for k in after if k.endswith(("running_mean", "running_var"))]
    assert stats and all(not torch.equal(before[k], after[k]) for k in stats)
    untouched = [k for k in after if k not in stats and "num_batches_tracked" not in k]
    assert untouched and all(torch.equal(before[k], after[k]) for k in untouched)  # weights, SN u/v
    assert all(m.momentum == 0.1 for m in G.modules() if isinstance(m, nn.BatchNorm2d))
    assert G.training  # the net's mode is restored


def test_standing_stats_off_by_default_leaves_the_statistics():
    rec = tiny_biggan()
    G = rec.net_for_sampling("G")
    before = {k: v.clone() for k, v in G.state_dict().items()}
    rec.generate(4)
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())


@pytest.mark.parametrize(
    "recipe,res,model",
    [
        ("biggan", 32, dict(g_width=2, d_width=2, z_dim=16, shared_dim=4)),
        ("biggan", 64, dict(g_width=1, d_width=1, z_dim=20, shared_dim=4, attn_res=[32, 64])),
        ("biggan-deep", 64, dict(g_width=4, d_width=4, z_dim=8, shared_dim=4, attn_res=32)),
        ("biggan", 32, dict(g_width=2, d_width=2, hier=False, g_shared=False, init="N02")),
        ("sagan", 64, dict(arch="resnet", conditional=True, g_width=1, d_width=1, attn_res=32)),
        ("sagan", 32, dict(arch="resnet", g_width=2, d_width=2)),  # unconditional
    ],
)
def test_official_nets_forward_and_backward_at_a_tiny_size(recipe, res, model):
    cls = RECIPES.get(recipe)
    info = DataInfo(name="tiny", shape=(3, res, res), num_classes=3)
    if recipe != "sagan":
        model = {"arch": "official", **model}
    torch.manual_seed(0)
    rec = cls(info, **model)
    y = torch.tensor([0, 1, 2, 1]) if rec.hp.conditional else None
    fake = rec.G(rec.latent.sample(4, "cpu"), y)
    assert fake.shape == (4, 3, res, res) and fake.abs().max() <= 1
    logits = rec.D(fake, y)
    assert logits.shape == (4,) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in rec.G.parameters() if p.requires_grad)
    samples = rec.generate(3)
    assert samples.shape == (3, 3, res, res)


def test_attention_placement_and_plans():
    assert attention_set(None) == {64} and attention_set(0) == set()
    assert attention_set([32, 64]) == {32, 64}
    info = DataInfo(name="tiny", shape=(3, 64, 64), num_classes=3)
    G = OfficialBigGANGenerator(info, z_dim=20, width=1, shared_dim=4, attn=[16, 64])
    # 4 up-blocks from 4x4: 8, 16, 32, 64 -> attention after blocks 1 and 3
    assert sorted(G.attn) == ["1", "3"]
    with pytest.raises(ConfigError, match="resolutions"):
        OfficialBigGANGenerator(DataInfo(name="d", shape=(1, 28, 28), num_classes=10))


def test_bad_options_fail_in_one_line():
    info = DataInfo(name="tiny", shape=(3, 32, 32), num_classes=3)
    biggan, sagan = RECIPES.get("biggan"), RECIPES.get("sagan")
    with pytest.raises(ConfigError, match="arch"):
        biggan(info, arch="huge")
    with pytest.raises(ConfigError, match="need arch=official"):
        biggan(info, hier=False)
    with pytest.raises(ConfigError, match="shared embedding"):
        biggan(info, arch="official", g_shared=False)
    with pytest.raises(ConfigError, match="set hier"):
        RECIPES.get("biggan-deep")(info, arch="official", hier=False)
    with pytest.raises(ConfigError, match="init"):
        biggan(info, arch="official", init="kaiming")
    with pytest.raises(ConfigError, match="arch=resnet"):
        sagan(info, attn_res=16)
