"""The paired half of image-to-image translation: transforms, data layouts and tasks, nets at
several sizes, the padding helper, the translation metrics on known images, evaluation of a
translation run, and bad input (one line each, nothing written)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganarium.data import DataInfo, load_dataset
from ganarium.data.paired import HOLE_FILL, digit_edges, downsample, side_shapes
from ganarium.data.stream import BatchStream, fixed_examples
from ganarium.data.transforms import (
    ImageTransform,
    PairTransform,
    check_sizes,
    read_image_full,
    to_channels,
)
from ganarium.errors import ConfigError, DataError, GanariumError
from ganarium.models import RECIPES, CapabilityError

PAIRED = ("pix2pix", "pix2pixhd", "context-encoder", "srgan", "colorization")
TINY = {
    "pix2pix": ("edges2digits", dict(width=8, d_width=8, d_layers=1)),
    "pix2pixhd": (
        "edges2digits",
        dict(
            width=8,
            d_width=8,
            d_layers=1,
            scales=2,
            global_downsamplings=2,
            global_blocks=1,
            local_blocks=1,
        ),
    ),
    "context-encoder": ("digits-inpaint", dict(width=8, d_width=8, d_layers=1)),
    "srgan": ("digits-sr", dict(width=8, blocks=1, d_width=8, d_pairs=2)),
    "colorization": ("gray2colour", dict(width=8, d_width=8, d_layers=1)),
}


def _tiny(name: str, split: str = "test"):
    data, model = TINY[name]
    ds = load_dataset(data, split=split)
    return RECIPES.get(name)(ds.info, **model), ds


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


# -- transforms --------------------------------------------------------------------------------
def test_pair_transform_crops_and_flips_both_sides_alike_and_is_seeded():
    a = torch.linspace(-1, 1, 3 * 20 * 20).reshape(3, 20, 20)
    b = to_channels(a, 1)
    t = PairTransform(load_size=24, crop_size=16, flip=True)
    outs = []
    for seed in range(8):
        torch.manual_seed(seed)
        x, y = t(a, b)
        assert x.shape == (3, 16, 16) and y.shape == (1, 16, 16)
        torch.testing.assert_close(to_channels(x, 1), y)  # the same window and flip for both
        outs.append(x)
    torch.manual_seed(3)
    torch.testing.assert_close(t(a, b)[0], outs[3])  # the per-sample seed fixes the draw
    assert len({round(float(o.sum()), 4) for o in outs}) > 1  # and different seeds differ


def test_held_out_transform_is_centred_and_never_flipped():
    x = torch.rand(1, 30, 30) * 2 - 1
    t = ImageTransform(load_size=30, crop_size=20, flip=True, train=False)
    torch.testing.assert_close(t(x), x[:, 5:25, 5:25])


def test_crop_larger_than_load_size_is_refused_in_one_line():
    with pytest.raises(ConfigError) as e:
        check_sizes(load_size=256, crop_size=286)
    assert "crop_size=286" in _one_line(e)


def test_to_channels_converts_gray_and_rgb():
    gray = torch.rand(2, 1, 4, 4)
    assert to_channels(gray, 3).shape == (2, 3, 4, 4)
    torch.testing.assert_close(to_channels(to_channels(gray, 3), 1), gray)
    with pytest.raises(DataError):
        to_channels(torch.rand(1, 4, 2, 2), 3)


# -- the aligned A|B layout ----------------------------------------------------------------------
def _aligned(root: Path, n: int = 6, size: int = 20, mode: str = "RGB", split: str = "train"):
    folder = root / split
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        b = 255 - a  # B is A's negative, so the pairing can be checked
        Image.fromarray(np.concatenate([a, b], 1)).convert(mode).save(folder / f"{i}.png")
    return root


def test_aligned_folder_splits_pairs_and_keeps_them_aligned(tmp_path):
    root = _aligned(tmp_path)
    _aligned(tmp_path, n=3, split="test")
    ds = load_dataset("aligned", root=str(root), load_size=20, crop_size=16)
    assert ds.info.pairing == "paired" and side_shapes(ds.info) == ((3, 16, 16), (3, 16, 16))
    stream = BatchStream(ds, 4, seed=1)
    batch = next(stream)
    assert batch["image"].shape == (4, 3, 16, 16)
    torch.testing.assert_close(batch["image_b"], -batch["image"], atol=1 / 127, rtol=0)
    ex1, ex2 = fixed_examples(ds, 3), fixed_examples(ds, 3)
    assert torch.equal(ex1["image"], ex2["image"])  # crops and flips drawn under per-sample seeds
    test = load_dataset("aligned", root=str(root), split="test", load_size=20, crop_size=16)
    assert len(test) == 3 and torch.equal(test[0]["image"], test[0]["image"])
    swapped = load_dataset(
        "aligned", root=str(root), split="test", load_size=20, crop_size=16, direction="BtoA"
    )
    torch.testing.assert_close(swapped[0]["image"], test[0]["image_b"])


def test_an_aligned_image_not_twice_as_wide_as_high_is_refused(tmp_path):
    (tmp_path / "train").mkdir()
    Image.new("RGB", (30, 20)).save(tmp_path / "train" / "bad.png")
    with pytest.raises(DataError) as e:
        load_dataset("aligned", root=str(tmp_path))
    assert "30x20" in _one_line(e) and "twice as wide" in str(e.value)


def test_an_empty_aligned_folder_is_refused(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(DataError) as e:
        load_dataset("aligned", root=str(tmp_path))
    assert "no images" in _one_line(e)


def test_an_aligned_folder_mixing_gray_and_rgb_is_refused_unless_channels_are_set(tmp_path):
    _aligned(tmp_path, n=2, mode="RGB")
    Image.new("L", (40, 20)).save(tmp_path / "train" / "gray.png")
    with pytest.raises(DataError) as e:
        load_dataset("aligned", root=str(tmp_path), load_size=20, crop_size=16)
    assert "data.channels" in _one_line(e)
    ds = load_dataset("aligned", root=str(tmp_path), load_size=20, crop_size=16, channels=1)
    assert ds[0]["image"].shape == (1, 16, 16)


def test_read_image_full_keeps_the_files_size_and_mode(tmp_path):
    Image.new("L", (7, 5), 255).save(tmp_path / "g.png")
    x = read_image_full(tmp_path / "g.png")
    assert x.shape == (1, 5, 7) and float(x.min()) == 1.0


# -- the offline paired tasks ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,shape_a,shape_b,baseline",
    [
        ("edges2digits", (1, 16, 16), (1, 16, 16), "identity"),
        ("digits-sr", (1, 6, 6), (1, 24, 24), "bicubic"),
        ("digits-inpaint", (1, 16, 16), (1, 16, 16), "mean-fill"),
        ("gray2colour", (1, 16, 16), (3, 16, 16), "gray"),
    ],
)
def test_offline_tasks_have_both_sides_a_test_split_and_a_baseline(
    name, shape_a, shape_b, baseline
):
    train, test = load_dataset(name), load_dataset(name, split="test")
    info = train.info
    assert info.pairing == "paired" and side_shapes(info) == (shape_a, shape_b)
    assert info.shape == shape_b and info.extras["baseline"] == baseline
    for ds in (train, test):
        t = ds.tensors
        assert t["image"].shape[1:] == shape_a and t["image_b"].shape[1:] == shape_b
        assert t["image"].min() >= -1 and t["image_b"].max() <= 1
    assert len(test) < len(train)
    if info.num_classes:
        assert set(test.tensors["label"].tolist()) == set(range(10))


def test_the_digit_tasks_are_made_from_the_digit_itself():
    sr = load_dataset("digits-sr", split="test").tensors
    torch.testing.assert_close(sr["image"], downsample(sr["image_b"], 4))
    edges = load_dataset("edges2digits", split="test").tensors
    torch.testing.assert_close(edges["image"][:5], digit_edges(edges["image_b"][:5]))
    holes = load_dataset("digits-inpaint", split="test").tensors
    m = holes["mask"].bool()
    assert (holes["image"][m] == HOLE_FILL).all()
    assert torch.equal(holes["image"][~m], holes["image_b"][~m])
    assert (holes["mask"].flatten(1).sum(1) == 64).all()  # one 8x8 hole each


# -- nets at several sizes, the padding helper ------------------------------------------------------
@pytest.mark.parametrize("size,depth", [(16, 4), (32, 5), (24, 3)])
def test_unet_keeps_the_size_with_and_without_skips(size, depth):
    from ganarium.nets.unet import UNetGenerator

    for skips in (True, False):
        g = UNetGenerator(1, 3, width=8, depth=depth, skips=skips)
        assert g(torch.randn(2, 1, size, size)).shape == (2, 3, size, size)
    with pytest.raises(ConfigError):
        UNetGenerator(1, 1, width=8, depth=4)(torch.randn(1, 1, 20, 20))


@pytest.mark.parametrize("size", [16, 32])
def test_pix2pixhd_nets_at_several_sizes(size):
    from ganarium.nets.pix2pixhd import LocalEnhancer, MultiscaleDiscriminator

    g = LocalEnhancer(1, 3, width=8, global_downsamplings=2, global_blocks=1, local_blocks=1)
    assert g(torch.randn(2, 1, size, size)).shape == (2, 3, size, size)
    assert g.coarse(torch.randn(2, 1, size // 2, size // 2)).shape == (2, 3, size // 2, size // 2)
    d = MultiscaleDiscriminator(3, 1, scales=3, width=8, layers=1)
    feats = d.features(torch.randn(2, 3, size, size), torch.randn(2, 1, size, size))
    # scales whose input would be smaller than one patch (6 px for one layer) are skipped
    assert len(feats) == (2 if size == 16 else 3)
    assert all(f[-1].shape[1] == 1 for f in feats)


@pytest.mark.parametrize("factor,side", [(2, 5), (4, 6), (4, 9)])
def test_srresnet_enlarges_by_its_factor_and_its_d_takes_any_size(factor, side):
    from ganarium.nets.srresnet import SRDiscriminator, SRResNet

    g = SRResNet(1, 1, factor, width=8, blocks=1)
    y = g(torch.randn(2, 1, side, side + 1))
    assert y.shape == (2, 1, side * factor, (side + 1) * factor)
    assert SRDiscriminator(1, width=8, pairs=2)(y).shape == (2,)
    with pytest.raises(ConfigError):
        SRResNet(1, 1, 3)


def test_run_padded_pads_to_the_multiple_and_crops_back():
    from ganarium.nn.padding import pad_to_multiple, padding_for, run_padded

    assert padding_for(13, 16, 8) == (3, 0) and padding_for(3, 3, 4, minimum=8) == (5, 5)
    x = torch.rand(1, 1, 13, 21)
    padded, size = pad_to_multiple(x, 8)
    assert padded.shape[-2:] == (16, 24) and size == (13, 21)
    torch.testing.assert_close(padded[..., :13, :21], x)
    up = lambda t: torch.nn.functional.interpolate(t, scale_factor=2)  # noqa: E731
    assert run_padded(up, x, 16, scale=2).shape == (1, 1, 26, 42)
    tiny = torch.rand(1, 1, 2, 3)  # too small to reflect: edges are replicated
    assert pad_to_multiple(tiny, 8)[0].shape[-2:] == (8, 8)


def test_lab_conversion_matches_scikit_image():
    from skimage.color import rgb2lab

    from ganarium.nn.color import lab_to_rgb, rgb_to_lab

    x = torch.rand(2, 3, 5, 7) * 2 - 1
    ref = rgb2lab(((x.permute(0, 2, 3, 1).numpy() + 1) / 2), channel_axis=-1)
    torch.testing.assert_close(
        rgb_to_lab(x), torch.from_numpy(ref).permute(0, 3, 1, 2).float(), atol=1e-3, rtol=0
    )
    torch.testing.assert_close(lab_to_rgb(rgb_to_lab(x)), x, atol=1e-4, rtol=0)


# -- the recipes: any size, either channel count; refusals -----------------------------------------
@pytest.mark.parametrize("name", PAIRED)
def test_paired_recipes_translate_any_size_and_either_channel_count(name):
    recipe, ds = _tiny(name)
    caps = recipe.capabilities()
    assert caps.translate == ("AtoB",)
    scale = 4 if name == "srgan" else 1
    c_b = recipe.info.shape[0]
    for channels, h, w in ((1, 13, 21), (3, 7, 9), (1, 40, 16)):
        out = recipe.translate(torch.rand(2, channels, h, w) * 2 - 1)
        assert out.shape == (2, c_b, h * scale, w * scale) and out.abs().max() <= 1
    with pytest.raises(CapabilityError) as e:
        recipe.translate(torch.rand(1, 1, 16, 16), "BtoA")
    assert "AtoB" in _one_line(e)
    preview = recipe.preview(5, ds.tensors)
    assert preview.nrow == 3 and preview.images.shape == (15, *recipe.info.shape)


@pytest.mark.parametrize("name", PAIRED)
def test_paired_translators_refuse_generate_and_a_preview_without_examples(name):
    recipe, _ = _tiny(name)
    with pytest.raises(CapabilityError) as e:
        recipe.generate(4)
    assert f"recipe {name!r} translates images: use translate(x, direction)" in _one_line(e)
    assert "ganarium sample RUN" in str(e.value)
    with pytest.raises(CapabilityError) as e:
        recipe.preview(4)
    assert "examples" in _one_line(e)
    assert not [k for k in recipe.state_dict() if k.startswith("kept")]


def test_a_pix2pix_state_dict_with_the_kept_buffers_of_0_1_loads_through_the_key_map():
    from ganarium.compat import upgrade_model_state

    torch.manual_seed(0)
    old = _tiny("pix2pix")[0].state_dict()
    old.update(kept=torch.rand(8, 1, 16, 16), kept_n=torch.tensor(8))
    torch.manual_seed(1)
    recipe = _tiny("pix2pix")[0]
    with pytest.raises(RuntimeError, match="kept_n"):
        recipe.load_state_dict(old)
    recipe.load_state_dict(upgrade_model_state(old, 1))  # strict: only the kept buffers dropped
    loaded = recipe.state_dict()
    assert loaded.keys() == old.keys() - {"kept", "kept_n"}
    assert all(torch.equal(v, old[k]) for k, v in loaded.items())


def test_column_preview_shows_gray_rgb_label_maps_and_sizes_alike():
    from ganarium.models._previews import column_preview

    gray = torch.full((2, 1, 4, 4), 0.5)
    rgb = torch.rand(2, 3, 8, 8) * 2 - 1
    labels = torch.zeros(3, 5, 4, 4)  # one-hot over 5 channels, label 4 everywhere
    labels[:, 4] = 1
    p = column_preview([gray, rgb, labels])
    assert p.nrow == 3 and p.images.shape == (6, 3, 8, 8)  # rows of the shortest column
    torch.testing.assert_close(p.images[0], torch.full((3, 8, 8), 0.5))  # repeated, enlarged
    torch.testing.assert_close(p.images[1], rgb[0])
    torch.testing.assert_close(p.images[2], torch.ones(3, 8, 8))  # the last label: white
    assert column_preview([gray, gray]).images.shape == (4, 1, 4, 4)  # all gray stays gray


@pytest.mark.parametrize(
    "name, option",
    [
        ("pix2pix", dict(loss="relativistic")),
        ("pix2pix", dict(norm="group")),
        ("srgan", dict(content="vgg")),
        ("srgan", dict(d_head="dense")),
        ("pix2pixhd", dict(coarse_fraction=1.5)),
        ("pix2pixhd", dict(norm_affine="no")),
    ],
)
def test_bad_options_are_refused_before_any_net_is_built(name, option):
    with pytest.raises(ConfigError) as e:
        RECIPES.get(name).Hparams.from_config(name, option)
    assert f"model.{next(iter(option))}" in _one_line(e)


def test_context_encoder_changes_only_the_hole():
    recipe, ds = _tiny("context-encoder")
    a = ds.tensors["image"][:4]
    out = recipe.translate(a)
    keep = ds.tensors["mask"][:4] == 0
    assert torch.equal(out[keep], a[keep])


@pytest.mark.parametrize("name", PAIRED)
def test_paired_recipes_refuse_unpaired_data_in_one_line(name):
    info = DataInfo(
        name="some-unpaired", shape=(1, 16, 16), shape_b=(1, 16, 16), pairing="unpaired"
    )
    with pytest.raises(DataError) as e:
        RECIPES.get(name)(info, **TINY[name][1])
    assert "unpaired" in _one_line(e) and "paired dataset" in str(e.value)


@pytest.mark.parametrize("name", ["srgan", "context-encoder"])
def test_recipes_that_need_equal_channels_refuse_a_and_b_of_different_counts(name):
    info = load_dataset("gray2colour", split="test").info  # A gray, B RGB
    with pytest.raises(DataError) as e:
        RECIPES.get(name)(info, **TINY[name][1])
    assert "1 (A) and 3 (B)" in _one_line(e)


def test_unpaired_data_to_a_paired_recipe_writes_nothing(tmp_path):
    from ganarium.runs import start_run

    run = tmp_path / "run"
    with pytest.raises(DataError):
        start_run("pix2pix", "digits", ["data.size=16"], run_dir=str(run))
    assert not run.exists()


# -- metrics on known images -------------------------------------------------------------------------
def test_psnr_and_ssim_on_known_images():
    from skimage.metrics import structural_similarity

    from ganarium.metrics.translation import psnr, ssim

    x = torch.zeros(3, 1, 16, 16)
    assert psnr(x, x) == 100.0
    assert psnr(x, x + 0.2) == pytest.approx(20.0, abs=1e-4)  # 10 log10(2^2 / 0.04)
    assert ssim(x + 0.3, x + 0.3) == pytest.approx(1.0)
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 1, 32, 32, generator=g), torch.rand(1, 1, 32, 32, generator=g)
    b = (a + 0.3 * b).clamp(0, 1)
    ref = structural_similarity(
        a[0, 0].double().numpy(),
        b[0, 0].double().numpy(),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
    )
    assert ssim(a * 2 - 1, b * 2 - 1) == pytest.approx(ref, abs=0.02)


def test_content_fid_colourfulness_and_baselines_on_known_images():
    from ganarium.metrics.translation import (
        baseline_outputs,
        colourfulness,
        content_kept,
        fid_to_target,
    )

    t = load_dataset("digits-sr", split="test").tensors
    assert content_kept(t["image_b"], t["label"]) > 0.95
    assert fid_to_target(t["image_b"][::2], t["image_b"][1::2]) < 5
    bicubic = baseline_outputs("bicubic", t["image"][:3], (1, 24, 24))
    assert bicubic.shape == (3, 1, 24, 24)
    assert colourfulness(torch.zeros(2, 3, 8, 8)) == 0.0
    red = torch.full((1, 3, 8, 8), -1.0)
    red[:, 0] = 1
    assert colourfulness(red) == pytest.approx(0.3 * (255**2 + 127.5**2) ** 0.5, rel=1e-4)
    gray = baseline_outputs("gray", torch.rand(2, 1, 8, 8) * 2 - 1, (3, 8, 8))
    assert colourfulness(gray) < 1.0
    with pytest.raises(GanariumError):
        baseline_outputs("mean-fill", t["image"][:2], (1, 24, 24))


def test_eval_of_a_translation_run_uses_held_out_pairs(tmp_path, tiny_overrides):
    from ganarium.runs import evaluate_run, start_run

    items = [f"model.{k}={v}" for k, v in TINY["pix2pix"][1].items()]
    start_run("pix2pix", "edges2digits", items + tiny_overrides, run_dir=str(tmp_path / "r")).fit()
    res = evaluate_run(str(tmp_path / "r"), ["fid"], n=200, progress=False)
    for key in ("psnr", "ssim", "baseline_psnr", "label_kept", "fid[digit-classifier]"):
        assert key in res and np.isfinite(res[key]), key
    assert res["n_pairs"] == 200 and (tmp_path / "r" / "eval.json").exists()
