"""SRGAN's VGG content loss and its photo-folder data (Ledig et al. 2017): VGG54 and VGG22 cut
at the paper's layers, the loss and its gradients, the weights from a file or torchvision's
cache (never downloaded here) and one-line errors, the frozen VGG kept out of checkpoints and
counts, ``sr-folder``'s seeded crops and bicubic LR, and a two-step run with content=vgg54."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import ganarium.nets.vgg as vgg
from ganarium.data import DataInfo, load_dataset
from ganarium.data.paired import downsample, paired_info
from ganarium.data.stream import BatchStream, _SeededItems, sample_seed
from ganarium.data.transforms import read_image_full
from ganarium.errors import ConfigError, DataError
from ganarium.models import RECIPES
from ganarium.presets import load_preset, player_parameter_counts

TINY = dict(width=8, blocks=1, d_width=8, d_pairs=2)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A randomly initialised torchvision vgg19's convolutional state dict (its ``features.*``
    keys, all the loss reads; 80 MB, written once per module, removed after)."""
    path = tmp_path_factory.mktemp("vgg") / "vgg19-random.pth"
    with torch.random.fork_rng():
        torch.manual_seed(0)
        state = torchvision.models.vgg19().state_dict()
        torch.save({k: v for k, v in state.items() if k.startswith("features.")}, path)
    yield path
    path.unlink()


@pytest.fixture(scope="module")
def reference(weights) -> torch.nn.Module:
    """torchvision's own vgg19 with those weights."""
    ref = torchvision.models.vgg19()
    ref.load_state_dict(torch.load(weights, weights_only=True), strict=False)
    return ref.eval()


def _srgan(weights: Path | str, side: int = 32, **model) -> torch.nn.Module:
    info = paired_info("photos", (3, side // 4, side // 4), (3, side, side), "bicubic")
    options = {**TINY, "content": "vgg54", "vgg_weights": str(weights), **model}
    torch.manual_seed(0)
    return RECIPES.get("srgan")(info, **options)


# -- the feature maps ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer, channels, side, convs, pools", [("vgg54", 512, 6, 16, 4), ("vgg22", 128, 48, 4, 1)]
)
def test_vgg_feature_maps_are_cut_after_the_papers_relu(
    weights, reference, layer, channels, side, convs, pools
):
    phi = vgg.vgg_features(layer, str(weights))
    x = torch.rand(1, 3, 96, 96) * 2 - 1
    out = phi(x)
    assert out.shape == (1, channels, side, side)
    layers = list(phi.features)
    assert isinstance(layers[-1], torch.nn.ReLU) and isinstance(layers[-2], torch.nn.Conv2d)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in layers) == convs
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in layers) == pools
    # torchvision's own vgg19 with these weights, on ImageNet-normalised [0, 1] RGB
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference.features[: len(layers)](((x + 1) / 2 - mean) / std)
    torch.testing.assert_close(out, expected)
    assert not phi.training and not any(p.requires_grad for p in phi.parameters())
    gray = x[:, :1]
    torch.testing.assert_close(phi(gray), phi(gray.expand(-1, 3, -1, -1)))


def test_the_loss_is_zero_for_identical_images_and_scaled_as_set(weights):
    recipe = _srgan(weights, content_scale=0.5)
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 3, 32, 32, generator=g)
    assert recipe.content_loss(a, a).item() == 0.0
    loss = recipe.content_loss(a, b * 2 - 1)
    phi = recipe.feature_net()
    expected = 0.5 * torch.nn.functional.mse_loss(phi(a), phi(b * 2 - 1))
    assert loss.item() > 0 and loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_gradients_reach_g_while_the_vgg_stays_frozen_and_out_of_the_checkpoint(weights):
    recipe = _srgan(weights)
    pixels = _srgan(weights, content="pixels", vgg_weights="")
    assert player_parameter_counts(recipe) == player_parameter_counts(pixels)
    assert recipe.state_dict().keys() == pixels.state_dict().keys()
    lr, hr = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    recipe.content_loss(recipe.G(lr), hr).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in recipe.G.parameters())
    phi = recipe.feature_net()
    assert all(p.grad is None and not p.requires_grad for p in phi.parameters())
    assert not any("features" in k for k in recipe.state_dict())
    assert phi not in recipe.nets().values() and not phi.training
    recipe.train()
    assert not recipe.feature_net().training  # the recipe's train() leaves it in eval mode


# -- where the weights come from -------------------------------------------------------------------
def test_weights_come_from_torchvisions_cache_when_no_file_is_given(weights, tmp_path, monkeypatch):
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    os.symlink(weights, cache / Path(torchvision.models.VGG19_Weights.IMAGENET1K_V1.url).name)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    from_cache = vgg.vgg_features("vgg22")
    from_file = vgg.vgg_features("vgg22", str(weights))
    for a, b in zip(from_cache.parameters(), from_file.parameters()):
        assert torch.equal(a, b)


def test_missing_or_unreachable_weights_are_one_config_error_naming_the_fix(
    weights, tmp_path, monkeypatch
):
    recipe = _srgan(tmp_path / "nowhere.pth")  # building reads no weights
    with pytest.raises(ConfigError) as e:
        recipe.phases()  # the Trainer asks for the phases before a run writes anything
    assert "nowhere.pth" in _one_line(e) and "model.vgg_weights=PATH" in str(e.value)
    from ganarium.runs import start_run

    root, run = _photos(tmp_path / "photos", small=()), tmp_path / "run"
    items = [f"model.{k}={v}" for k, v in TINY.items()]
    items += ["model.content=vgg54", f"model.vgg_weights={tmp_path / 'nowhere.pth'}"]
    with pytest.raises(ConfigError) as e:
        start_run(
            "srgan", "sr-folder", [*items, f"data.root={root}", "data.crop=32"], run_dir=str(run)
        )
    assert "nowhere.pth" in _one_line(e) and not run.exists()  # refused before writing

    def offline():
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(vgg, "pretrained_state_dict", offline)
    with pytest.raises(ConfigError) as e:
        _srgan("").phases()
    assert "IMAGENET1K_V1" in _one_line(e) and "pass model.vgg_weights=PATH" in str(e.value)

    bad = tmp_path / "not-vgg.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(ConfigError) as e:
        vgg.vgg_features("vgg54", str(bad))
    assert "lack features.0.bias" in _one_line(e)
    (tmp_path / "text.pth").write_text("not a state dict")
    with pytest.raises(ConfigError) as e:
        vgg.vgg_features("vgg22", str(tmp_path / "text.pth"))
    assert "cannot be read" in _one_line(e)


def test_vgg_options_are_checked_before_any_net_is_built():
    hp = RECIPES.get("srgan").Hparams
    with pytest.raises(ConfigError) as e:
        hp.from_config("srgan", {"vgg_weights": "vgg19.pth"})  # content is auto
    assert "model.vgg_weights" in _one_line(e) and "content=vgg54" in str(e.value)
    with pytest.raises(ConfigError) as e:
        hp.from_config("srgan", {"content": "vgg19"})
    assert "model.content" in _one_line(e)
    info = load_dataset("digits-sr", size=8, factor=2).info  # 8x8 targets: VGG54 reads >= 16
    with pytest.raises(ConfigError) as e:
        RECIPES.get("srgan")(info, content="vgg54", **TINY)
    assert "at least 16x16" in _one_line(e)


def test_the_preset_uses_vgg54_with_the_papers_rescaling():
    p = load_preset("srgan", "4x")
    assert p.model["content"] == "vgg54"
    assert p.model["content_scale"] == pytest.approx(1 / 12.75**2, rel=1e-5)
    assert p.data == {"crop": 96, "factor": 4}
    assert "--data sr-folder" in p.reproduce["command"]


# -- sr-folder ---------------------------------------------------------------------------------
def _photos(root: Path, sizes=((40, 50), (64, 64), (36, 90)), small=((20, 60),)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate((*sizes, *small)):
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"photo{i}.png")
    return root


def test_sr_folder_gives_random_hr_crops_and_their_bicubic_lr(tmp_path):
    root = _photos(tmp_path / "photos")
    with pytest.warns(UserWarning, match=r"skipped 1 of 4 images smaller than 32x32"):
        ds = load_dataset("sr-folder", root=str(root), crop=32, factor=4)
    assert len(ds) == 3 and ds.info.pairing == "paired" and ds.info.baseline == "bicubic"
    assert ds.info.shape_a == (3, 8, 8) and ds.info.shape_b == (3, 32, 32)
    for i in range(3):
        item = _SeededItems(ds)[(i, 5)]
        assert item["image"].shape == (3, 8, 8) and item["image_b"].shape == (3, 32, 32)
        torch.testing.assert_close(item["image"], downsample(item["image_b"][None], 4)[0])
        photo = read_image_full(ds.files[i], 3)
        windows = photo.unfold(1, 32, 1).unfold(2, 32, 1)  # every 32x32 window of the photo
        match = (windows == item["image_b"][:, None, None]).flatten(3).all(3).all(0)
        assert match.any()  # the HR crop is a window of the photo, unresized


def test_sr_folder_crops_are_fixed_by_the_per_sample_seed(tmp_path):
    ds = load_dataset("sr-folder", root=str(_photos(tmp_path / "p", small=())), crop=32)
    same = [_SeededItems(ds)[(2, sample_seed(0, 0, 1))]["image_b"] for _ in range(2)]
    assert torch.equal(*same)
    crops = {_SeededItems(ds)[(2, s)]["image_b"].sum().item() for s in range(6)}
    assert len(crops) > 1  # the 36x90 photo has 5 x 59 windows: seeds pick different ones
    first, again, other = (BatchStream(ds, 3, seed=s) for s in (1, 1, 2))
    for _ in range(3):
        a, b, c = next(first), next(again), next(other)
        assert torch.equal(a["image_b"], b["image_b"]) and torch.equal(a["image"], b["image"])
    assert not torch.equal(a["image_b"], c["image_b"])


def test_sr_folder_refuses_bad_folders_and_options_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as e:
        load_dataset("sr-folder", root=str(tmp_path / "empty"))
    assert "has no images" in _one_line(e)
    tiny = _photos(tmp_path / "tiny", sizes=())
    with pytest.raises(DataError) as e:
        load_dataset("sr-folder", root=str(tiny), crop=96)
    assert "none of the 1 images" in _one_line(e) and "data.crop" in str(e.value)
    with pytest.raises(DataError) as e:
        load_dataset("sr-folder", root=str(tiny), crop=30, factor=4)
    assert "multiple of data.factor" in _one_line(e)
    with pytest.raises(DataError) as e:
        load_dataset("sr-folder")
    assert "data.root" in _one_line(e)
    with pytest.raises(DataError) as e:
        load_dataset("sr-folder", root=str(tmp_path / "missing"))
    assert "does not exist" in _one_line(e)


# -- a run -----------------------------------------------------------------------------------
def test_a_two_step_srgan_run_with_vgg54_on_a_photo_folder(tmp_path, weights):
    from ganarium.checkpoint import load_checkpoint
    from ganarium.runs import start_run

    root = _photos(tmp_path / "photos", small=())
    model = {**TINY, "content": "vgg54", "vgg_weights": str(weights)}
    overrides = [f"model.{k}={v}" for k, v in model.items()] + [
        f"data.root={root}",
        "data.crop=32",
        "train.steps=2",
        "train.batch_size=2",
        "train.log_every=1",
        "train.sample_every=0",
        "train.checkpoint_every=2",
        "train.progress=false",
        "train.tensorboard=false",
    ]
    trainer = start_run("srgan", "sr-folder", overrides, run_dir=str(tmp_path / "run"))
    history = trainer.fit()
    assert len(history) == 2
    for row in history:
        assert np.isfinite(row["G/content"]) and row["G/content"] > 0
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["model"]
    assert state.keys() == trainer.recipe.state_dict().keys()
    assert not any("features" in k for k in state)
    assert isinstance(trainer.recipe.info, DataInfo) and trainer.recipe.info.shape_a == (3, 8, 8)
