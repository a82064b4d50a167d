"""The translation presets (CycleGAN, pix2pix, pix2pixHD, SRGAN): forward FLOPs of G and D at
batch 1 within 1% of the official nets' (counted with FlopCounterMode on the meta device), the
SRGAN figures recounted from the paper's Fig. 4, non-square inputs (pix2pixHD's 2048x1024),
pix2pix's test-time mode, and a small forward of each new net option."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ganarium.data import DATASETS, DataInfo
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.nets.patchgan import PatchGANDiscriminator
from ganarium.nets.pix2pixhd import LocalEnhancer, MultiscaleDiscriminator
from ganarium.nets.srresnet import SRDiscriminator
from ganarium.nets.translator import ResnetTranslator
from ganarium.nets.unet import UNetGenerator
from ganarium.presets import build_preset_recipe, load_preset


def meta(*shape: int) -> torch.Tensor:
    return torch.empty(*shape, device="meta")


def flops(fn, *inputs: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        fn(*inputs)
    return counter.get_total_flops()


def forward_flops(recipe: str, name: str) -> dict[str, int]:
    """One G's and one D's forward FLOPs at batch 1 at the preset's data shape."""
    p = load_preset(recipe, name)
    r = build_preset_recipe(recipe, name, device="meta")
    b = tuple(p.info["shape_b"])
    a = tuple(p.info["extras"]["shape_a"])
    if recipe == "cyclegan":
        return {"G": flops(r.G_AB, meta(1, *a)), "D": flops(r.D_A, meta(1, *b))}
    if recipe == "srgan":
        return {"G": flops(r.G, meta(1, *a)), "D": flops(r.D, meta(1, *b))}
    return {"G": flops(r.G, meta(1, *a)), "D": flops(r.D, meta(1, *b), meta(1, *a))}


PRESETS = [
    ("cyclegan", "256"),
    ("pix2pix", "facades-256"),
    ("pix2pixhd", "cityscapes-2048x1024"),
    ("srgan", "4x"),
]


@pytest.mark.parametrize("recipe, name", PRESETS, ids=[f"{r}/{n}" for r, n in PRESETS])
def test_forward_flops_are_within_one_percent_of_the_official_nets(recipe, name):
    official = load_preset(recipe, name).official["flops"]
    built = forward_flops(recipe, name)
    for player in ("G", "D"):
        assert abs(built[player] - official[player]) <= 0.01 * official[player], (
            f"{recipe}/{name} {player}: {built[player]:,} FLOPs, official {official[player]:,}"
        )


# -- SRGAN: no official code, so the figures are recounted here from Fig. 4 --------------------
def conv(c_in: int, c_out: int, k: int, side: int, bias: bool = True) -> tuple[int, int]:
    """(parameters, forward FLOPs) of a k x k conv producing a side x side map."""
    return c_in * c_out * k * k + (c_out if bias else 0), 2 * c_in * c_out * k * k * side * side


def srgan_figure_counts(lr: int = 24, n: int = 64, blocks: int = 16) -> dict[str, tuple[int, int]]:
    """G and D of Ledig et al. 2017 Fig. 4 as (parameters, FLOPs), layer by layer: G's
    k9n64s1 + PReLU, B x (k3n64s1, BN, PReLU, k3n64s1, BN), k3n64s1 + BN, two (k3n256s1,
    shuffle x2, PReLU), k9n3s1; D's k3n64s1, then k3n64s2, k3n128s1, k3n128s2, ..., k3n512s2
    each with BN (no conv bias before BN), dense 1024 on the flattened 512 x 6 x 6, dense 1."""
    g = [conv(3, n, 9, lr), (n, 0)]
    for _ in range(blocks):
        g += [conv(n, n, 3, lr), (2 * n, 0), (n, 0), conv(n, n, 3, lr), (2 * n, 0)]
    g += [conv(n, n, 3, lr), (2 * n, 0)]
    g += [conv(n, 4 * n, 3, lr), (n, 0), conv(n, 4 * n, 3, 2 * lr), (n, 0)]
    g += [conv(n, 3, 9, 4 * lr)]
    hr = 4 * lr
    d = [conv(3, n, 3, hr)]
    side, c = hr, n
    for c_out, stride in [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2)]:
        side //= stride
        d += [conv(c, c_out, 3, side, bias=False), (2 * c_out, 0)]
        c = c_out
    flat = c * side * side
    d += [(flat * 1024 + 1024, 2 * flat * 1024), (1024 + 1, 2 * 1024)]
    return {k: (sum(p for p, _ in v), sum(f for _, f in v)) for k, v in {"G": g, "D": d}.items()}


def test_srgan_preset_records_the_counts_of_the_papers_figure():
    official = load_preset("srgan", "4x").official
    counted = srgan_figure_counts()
    for player in ("G", "D"):
        assert official["params"][player] == counted[player][0]
        assert official["flops"][player] == counted[player][1]


def test_srgan_dense_discriminator_reads_only_its_crop_size():
    torch.manual_seed(0)
    d = SRDiscriminator(3, width=8, pairs=4, input_size=(32, 48))
    assert d(torch.randn(2, 3, 32, 48)).shape == (2,)
    assert d.body[-3].in_features == 64 * 2 * 3  # 8 x 2^3 channels at (32 / 16) x (48 / 16)
    with pytest.raises(ConfigError, match="reads 32x48"):
        d(torch.randn(2, 3, 48, 48))
    with pytest.raises(ConfigError, match="divisible by 16"):
        SRDiscriminator(3, width=8, pairs=4, input_size=(40, 40))


# -- non-square: pix2pixHD's 2048x1024 ----------------------------------------------------------
def test_pix2pixhd_preset_takes_1024x2048_on_the_meta_device():
    r = build_preset_recipe("pix2pixhd", "cityscapes-2048x1024", device="meta")
    out = r.G(meta(1, 36, 1024, 2048))
    assert tuple(out.shape) == (1, 3, 1024, 2048)
    logits = r.D(meta(1, 3, 1024, 2048), meta(1, 36, 1024, 2048))
    # padding 2 as the authors' D: 1024x2048 -> 513x1025 -> 257x513 -> 129x257 -> 130x258 -> 131x259
    assert [tuple(s.shape[-2:]) for s in logits] == [(131, 259), (67, 131), (35, 67)]


def test_pix2pixhd_preset_layout_translates_a_small_non_square_image():
    """The preset's options with narrow nets, on the CPU: 64x128 in, 64x128 out; an odd
    non-square size is padded and cropped back."""
    p = load_preset("pix2pixhd", "cityscapes-2048x1024")
    small = dict(width=4, d_width=4, global_blocks=1, local_blocks=1, global_downsamplings=3)
    info = DataInfo(
        name="small",
        shape=(3, 64, 128),
        shape_b=(3, 64, 128),
        pairing="paired",
        extras={"shape_a": (36, 64, 128)},
    )
    cls = RECIPES.get("pix2pixhd")
    torch.manual_seed(0)
    r = cls(info, **{**cls.defaults, **p.model, **small})
    assert tuple(r.G(torch.randn(1, 36, 64, 128)).shape) == (1, 3, 64, 128)
    scores = r.D(torch.randn(1, 3, 64, 128), torch.randn(1, 36, 64, 128))
    assert tuple(scores[0].shape[-2:]) == (11, 19)  # padding 2: 64 -> 33 -> 17 -> 9 -> 10 -> 11
    out = r.translate(torch.rand(2, 36, 40, 72) * 2 - 1)
    assert tuple(out.shape) == (2, 3, 40, 72) and torch.isfinite(out).all()


def test_aligned_folder_reads_non_square_pairs(tmp_path):
    split = tmp_path / "train"
    split.mkdir()
    for i in range(2):
        pixels = torch.randint(0, 255, (20, 80, 3), dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(split / f"{i}.png")  # A | B, each 20 x 40
    ds = DATASETS.get("aligned")(
        root=str(tmp_path), load_size=24, load_width=48, crop_size=16, crop_width=32
    )
    item = ds[0]
    assert ds.info.shape == (3, 16, 32)
    assert item["image"].shape == item["image_b"].shape == (3, 16, 32)
    square = DATASETS.get("aligned")
    with pytest.raises(Exception, match="twice as wide"):
        square(root=str(tmp_path), load_size=24, crop_size=16)  # 80 x 20 is no square A | B


# -- pix2pix's test-time mode -------------------------------------------------------------------
def small_pix2pix(test_mode: str):
    info = DataInfo(
        name="p",
        shape=(3, 32, 32),
        shape_b=(3, 32, 32),
        pairing="paired",
        extras={"shape_a": (3, 32, 32)},
    )
    cls = RECIPES.get("pix2pix")
    torch.manual_seed(0)
    r = cls(info, **{**cls.defaults, "width": 8, "d_width": 8, "test_mode": test_mode})
    with torch.no_grad():  # running statistics away from their initial values
        r.G.train()
        for _ in range(3):
            r.G(torch.randn(4, 3, 32, 32))
    return r


def snapshot(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def test_pix2pix_test_mode_train_keeps_dropout_and_batch_statistics_without_moving_them():
    r = small_pix2pix("train")
    r.G.eval()  # translate must not depend on the mode the net was left in, and restores it
    before = snapshot(r.G)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    torch.manual_seed(1)
    first, second = r.translate(x), r.translate(x)
    assert (first - second).abs().max() > 1e-3  # dropout is on: two draws differ
    after = snapshot(r.G)
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), f"{k} moved"
    assert not r.G.training
    # batch statistics: without dropout, a train-mode pass on the same batch gives the output
    for m in r.G.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    with torch.no_grad():
        r.G.train()
        expected = r.G(x).clamp(-1, 1)
        r.G.load_state_dict(before)  # that pass moved the running statistics; put them back
    assert torch.allclose(r.translate(x), expected, atol=1e-6)


def test_pix2pix_default_test_mode_is_eval():
    r = small_pix2pix("eval")
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.equal(r.translate(x), r.translate(x))
    with pytest.raises(ConfigError, match="test_mode"):
        small_pix2pix("dropout")


def test_pix2pix_preset_translates_as_the_paper():
    p = load_preset("pix2pix", "facades-256")
    assert p.model["test_mode"] == "train" and p.train["ema_decay"] == 0
    assert p.train["lr_schedule"] == "linear" and p.train["lr_decay_start"] == 0.5


# -- each new option, a small forward ------------------------------------------------------------
def test_resnet_translator_without_affine_norms_biases_its_convs():
    torch.manual_seed(0)
    net = ResnetTranslator(3, 3, width=8, blocks=2, affine=False)
    norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert norms and all(not m.affine for m in norms)
    assert all(c.bias is not None for c in convs)
    assert net(torch.randn(1, 3, 20, 28)).shape == (1, 3, 20, 28)
    default = ResnetTranslator(3, 3, width=8, blocks=2)
    assert sum(c.bias is not None for c in default.modules() if isinstance(c, nn.Conv2d)) == 1


def test_patchgan_options_and_unet_without_encoder_bias():
    torch.manual_seed(0)
    d = PatchGANDiscriminator(3, 3, width=8, layers=3, norm="instance", affine=False, padding=2)
    assert d(torch.randn(1, 3, 32, 48), torch.randn(1, 3, 32, 48)).shape == (1, 1, 7, 9)
    assert PatchGANDiscriminator(3, width=8)(torch.randn(1, 3, 32, 48)).shape == (1, 1, 2, 4)
    g = UNetGenerator(3, 3, width=8, depth=5, encoder_bias=False)
    assert g.down[0].bias is None and g.down[-1][1].bias is None
    assert g(torch.randn(2, 3, 32, 64)).shape == (2, 3, 32, 64)
    assert UNetGenerator(3, 3, width=8, depth=5).down[0].bias is not None


def test_pix2pixhd_nets_with_the_authors_norms_count_as_theirs():
    g = LocalEnhancer(36, 3, 4, 2, 1, 1, "instance", affine=False)
    assert not any(isinstance(m, nn.InstanceNorm2d) and m.affine for m in g.modules())
    d = MultiscaleDiscriminator(3, 36, 2, 8, 2, "instance", affine=False, padding=2)
    feats = d.features(torch.randn(1, 3, 32, 64), torch.randn(1, 36, 32, 64))
    assert len(feats) == 2 and len(feats[0]) == 4
