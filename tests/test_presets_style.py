"""The ProGAN, StyleGAN and StyleGAN2 presets and the paper-layout options behind them: forward
FLOPs at batch 1 within 1% of the official nets' (measured on stylegan2-ada-pytorch's nets,
by formula for the TensorFlow ones), the conditional StyleGAN2 (CIFAR-10) reads its labels, the
lazy-regularization Adam correction, the official residual D block's function, fused resampling
convolutions that compute the unfused function, ProGAN's optimizer reset and per-level learning
rate, and small forward passes of every option."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.nets.progan import ProGANGenerator, channel_plan
from ganarium.nets.stylegan2_official import DiscriminatorBlock
from ganarium.nn.progressive import FusedDownConv
from ganarium.nn.style import EqualizedConv2d
from ganarium.presets import build_preset_recipe, load_preset
from ganarium.recipe import StepContext

STYLE_PRESETS = [
    ("stylegan2", "config-f"),
    ("stylegan2", "paper256"),
    ("stylegan2", "cifar"),
    ("stylegan", "ffhq-1024"),
    ("progan", "celebahq-1024"),
    ("progan", "celebahq-256"),
]


def tiny_info(size: int = 16, classes: int = 0) -> DataInfo:
    return DataInfo(name="tiny", kind="image", shape=(3, size, size), num_classes=classes)


def forward_flops(recipe: str, r, labelled: bool) -> tuple[int, int]:
    """FLOPs of G's and D's forward pass at batch 1 at the full resolution (meta tensors)."""
    G, D = r.G, r.D
    z = torch.randn(1, G.z_dim, device="meta")
    labels = torch.zeros(1, dtype=torch.long, device="meta") if labelled else None
    with FlopCounterMode(display=False) as counter:
        if recipe == "progan":
            img = G(z, G.levels - 1)
        else:
            img = G(z) if labels is None else G(z, labels)
    g = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        if recipe in ("progan", "stylegan"):
            D(img, D.levels - 1)
        else:
            D(img) if labels is None else D(img, labels)
    return g, counter.get_total_flops()


@pytest.mark.parametrize("recipe,name", STYLE_PRESETS, ids=[f"{r}/{n}" for r, n in STYLE_PRESETS])
def test_preset_forward_flops_are_within_one_percent_of_the_official(recipe, name):
    preset = load_preset(recipe, name)
    r = build_preset_recipe(recipe, name, device="meta")
    g, d = forward_flops(recipe, r, bool(preset.model.get("conditional")))
    official = preset.official["flops"]
    assert abs(g / official["G"] - 1) <= 0.01, (g, official["G"])
    assert abs(d / official["D"] - 1) <= 0.01, (d, official["D"])


def test_channel_plan_is_base_over_resolution_capped_and_width_by_default():
    assert channel_plan(9, 512, 32768, 512) == [512, 512, 512, 512, 512, 256, 128, 64, 32]
    assert channel_plan(7, 512, 16384, 512)[-1] == 64  # paper256's 256x256 layer
    assert channel_plan(4, 64) == [64, 64, 32, 16]  # today's width plan
    with pytest.raises(ConfigError):
        channel_plan(9, 512, 512, 512)


# -- the conditional StyleGAN2 (the cifar preset's net) -----------------------------------------
def tiny_stylegan2(classes: int = 0, **model):
    opts = dict(
        layout="official",
        z_dim=8,
        w_dim=8,
        mapping_layers=2,
        d_mapping_layers=2,
        channel_base=64,
        channel_max=16,
        group_size=2,
    )
    if classes:
        opts["conditional"] = True
    return RECIPES.get("stylegan2")(tiny_info(8, classes), **{**opts, **model})


@pytest.mark.parametrize("d_architecture", ["orig", "resnet"])
def test_conditional_stylegan2_reads_labels_in_g_and_d(d_architecture):
    torch.manual_seed(0)
    r = tiny_stylegan2(classes=3, d_architecture=d_architecture)
    assert r.capabilities().conditional
    z = torch.randn(4, 8).repeat(2, 1)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    with torch.no_grad():
        a = r.G(z, labels)
        b = r.G(z, (labels + 1) % 3)
        assert a.shape == (8, 3, 8, 8)
        assert (a - b).abs().amax((1, 2, 3)).min() > 1e-4  # every sample changed with its label
        assert torch.allclose(r.G(z, labels), a)  # and only with it (const noise)
        da, db = r.D(a, labels), r.D(a, (labels + 1) % 3)
        assert da.shape == (8,) and (da - db).abs().min() > 1e-6
        grid = r.generate(3, labels=torch.tensor([2, 2, 2]))
        assert grid.shape == (3, 3, 8, 8)


def test_conditional_stylegan2_trains_a_step_with_labels():
    torch.manual_seed(0)
    r = tiny_stylegan2(classes=3, pl_weight=2.0, pl_every=1, r1_every=1)
    opts = r.configure_optimizers()
    batch = {"image": torch.rand(4, 3, 8, 8) * 2 - 1, "label": torch.tensor([0, 1, 2, 1])}
    for phase in r.phases():
        loss, _ = phase.loss(batch, StepContext(step=0, total_steps=1))
        opts[phase.optimizer].zero_grad()
        loss.backward()
        assert torch.isfinite(loss)
        assert r.G.mapping.embed.weight.grad is not None or phase.optimizer == "D"
        opts[phase.optimizer].step()


def test_conditional_needs_labels_and_the_official_layout():
    with pytest.raises(ConfigError, match="labelled"):
        RECIPES.get("stylegan2")(tiny_info(8), conditional=True, layout="official")
    with pytest.raises(ConfigError, match="layout=official"):
        RECIPES.get("stylegan2")(tiny_info(8, 3), conditional=True, z_dim=8, w_dim=8, width=8)
    with pytest.raises(ConfigError, match="layout"):
        RECIPES.get("stylegan2")(tiny_info(8), layout="paper")


# -- the Adam correction -------------------------------------------------------------------------
def adam_settings(opt):
    group = opt.param_groups[0]
    return group["lr"], tuple(group["betas"])


def test_adam_correction_scales_lr_and_betas_by_the_regularization_interval():
    r = RECIPES.get("stylegan2")(
        tiny_info(8),
        z_dim=8,
        w_dim=8,
        width=8,
        adam_correction=True,
        lr=0.0025,
        betas=(0.5, 0.99),
        pl_every=4,
        r1_every=16,
    )
    opts = r.configure_optimizers()
    lr, betas = adam_settings(opts["G"])
    assert lr == pytest.approx(0.0025 * 4 / 5)
    assert betas == pytest.approx((0.5**0.8, 0.99**0.8))
    lr, betas = adam_settings(opts["D"])
    assert lr == pytest.approx(0.0025 * 16 / 17)
    assert betas == pytest.approx((0.5 ** (16 / 17), 0.99 ** (16 / 17)))
    plain = RECIPES.get("stylegan2")(tiny_info(8), z_dim=8, w_dim=8, width=8, lr=0.0025)
    assert adam_settings(plain.configure_optimizers()["D"]) == (0.0025, (0.0, 0.99))


def test_config_f_preset_builds_corrected_optimizers():
    opts = build_preset_recipe("stylegan2", "config-f").configure_optimizers()
    assert adam_settings(opts["G"])[0] == pytest.approx(0.002 * 0.8)
    assert adam_settings(opts["D"])[1][1] == pytest.approx(0.99 ** (16 / 17))


# -- the official residual D block ---------------------------------------------------------------
def test_official_d_block_filters_and_strides_before_the_activation():
    """By hand: skip = 1x1 conv (no bias) of the [1,3,3,1]-filtered, decimated input; main =
    conv3 + lrelu, then the filter padded by 2 and a stride-2 conv3 before lrelu; both times
    sqrt(0.5) (lrelu carrying its sqrt(2) gain)."""
    torch.manual_seed(0)
    block = DiscriminatorBlock(4, 4, 6, 3)
    with torch.no_grad():
        for p in block.parameters():
            p.normal_()
    x = torch.randn(2, 4, 8, 8)
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = (torch.outer(taps, taps) / 64).expand(4, 1, 4, 4)

    def lrelu(v):
        return F.leaky_relu(v, 0.2) * math.sqrt(2)

    def conv(layer, v, **kw):
        w = layer.weight / math.sqrt(layer.weight[0].numel())
        return F.conv2d(v, w, layer.bias, **kw)

    skip = conv(block.skip, F.conv2d(F.pad(x, (1, 1, 1, 1)), k, stride=2, groups=4))
    h = lrelu(conv(block.conv0, x, padding=1))
    main = lrelu(conv(block.conv1, F.conv2d(F.pad(h, (2, 2, 2, 2)), k, groups=4), stride=2))
    expected = (skip + main) * math.sqrt(0.5)
    with torch.no_grad():
        out = block(x)
    assert out.shape == (2, 6, 4, 4)
    assert torch.allclose(out, expected, atol=1e-5)


# -- fused resampling, ProGAN's schedule options -------------------------------------------------
def test_fused_resampling_convs_compute_the_unfused_function():
    """G's fused x2 + conv is the same function; D's fused conv + 2x2 average is the conv then
    the average (the authors' fused D pools before its activation, their unfused D after)."""
    info = tiny_info(16)
    torch.manual_seed(0)
    plain = ProGANGenerator(info, 8, channel_base=64, channel_max=16)
    fused = ProGANGenerator(info, 8, channel_base=64, channel_max=16, fused_from=8)
    fused.load_state_dict(plain.state_dict())
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.allclose(plain(z, 2), fused(z, 2), atol=1e-5)
    conv, down = EqualizedConv2d(4, 6, 3, 1.4), FusedDownConv(4, 6, 3, 1.4)
    down.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        assert torch.allclose(F.avg_pool2d(conv(x), 2), down(x), atol=1e-5)


def run_progan_steps(r, steps: int, total: int) -> list[tuple[int, bool, float]]:
    """(level, optimizer state kept from the last step, D's lr) after each step."""
    opts = r.configure_optimizers()
    batch = {"image": torch.rand(4, 3, 16, 16) * 2 - 1}
    seen = []
    for step in range(steps):
        had_state = bool(opts["D"].state)
        for phase in r.phases():
            ctx = StepContext(step=step, total_steps=total)
            loss, _ = phase.loss(batch, ctx)
            if phase.name == "D":
                seen.append((int(r.level), had_state and bool(opts["D"].state), 0.0))
            opts[phase.optimizer].zero_grad()
            loss.backward()
            opts[phase.optimizer].step()
        seen[-1] = (*seen[-1][:2], opts["D"].param_groups[0]["lr"])
    return seen


def test_progan_resets_adam_at_each_fade_start_and_end_and_sets_the_level_lr():
    torch.manual_seed(0)
    r = RECIPES.get("progan")(
        tiny_info(16),
        z_dim=8,
        width=8,
        fade_steps=2,
        stable_steps=2,
        reset_optimizers=True,
        level_lr="8=0.002, 16=0.003",
    )
    seen = run_progan_steps(r, 10, 10)
    # steps 0-1 level 0 stable, 2-3 fade to 8, 4-5 stable 8, 6-7 fade to 16, 8-9 stable 16
    assert [s[0] for s in seen] == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    reset_at = [i for i, s in enumerate(seen) if i and not s[1]]
    assert reset_at == [2, 4, 6, 8]
    assert [s[2] for s in seen] == [1e-3] * 2 + [0.002] * 4 + [0.003] * 4
    with pytest.raises(ConfigError, match="level_lr"):
        RECIPES.get("progan")(tiny_info(16), z_dim=8, width=8, level_lr="16:0.1")
    torch.manual_seed(0)
    plain = RECIPES.get("progan")(tiny_info(16), z_dim=8, width=8, fade_steps=2, stable_steps=2)
    assert all(s[1] for s in run_progan_steps(plain, 6, 10)[1:])


# -- small forward passes of every paper-layout option -------------------------------------------
@pytest.mark.parametrize(
    "recipe,model",
    [
        ("progan", dict(channel_base=128, channel_max=16, fused_from=8)),
        (
            "stylegan",
            dict(
                channel_base=128,
                channel_max=16,
                fused_from=16,
                blur_size=3,
                d_blur=True,
            ),
        ),
        ("stylegan2", dict(channel_base=128, channel_max=16)),
        ("stylegan2", dict(layout="official", channel_base=128, channel_max=16, mbstd_channels=2)),
        (
            "stylegan2",
            dict(layout="official", channel_base=128, channel_max=16, d_architecture="orig"),
        ),
    ],
)
def test_paper_layout_options_train_a_step_and_sample(recipe, model):
    torch.manual_seed(0)
    z = dict(z_dim=8) if recipe == "progan" else dict(z_dim=8, w_dim=8, mapping_layers=2)
    r = RECIPES.get(recipe)(tiny_info(16), **z, **model)
    opts = r.configure_optimizers()
    batch = {"image": torch.rand(4, 3, 16, 16) * 2 - 1}
    for phase in r.phases():
        loss, _ = phase.loss(batch, StepContext(step=3, total_steps=4))
        opts[phase.optimizer].zero_grad()
        loss.backward()
        opts[phase.optimizer].step()
        assert torch.isfinite(loss)
    out = r.generate(2)
    assert out.shape == (2, 3, 16, 16) and torch.isfinite(out).all()
