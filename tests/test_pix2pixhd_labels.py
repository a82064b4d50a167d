"""pix2pixHD's label-map input (Wang et al. 2018): the ``label-maps`` dataset (one-hot labels plus
the instance-boundary map, nearest resizing, seeded flips, one-line errors), the recipe trained
on it for two steps, its coloured previews, and checkpoints that hold no inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganarium.data import load_dataset
from ganarium.data.label_maps import frame_key, instance_boundaries, nearest_resize
from ganarium.data.stream import fixed_examples
from ganarium.errors import DataError
from ganarium.models._previews import colour_labels, label_palette
from ganarium.presets import load_preset

H, W, K = 16, 32, 5  # frames of 16 x 32 pixels holding class ids 0..4
TINY_MODEL = [
    "model.width=4",
    "model.d_width=4",
    "model.d_layers=1",
    "model.scales=2",
    "model.global_downsamplings=2",
    "model.global_blocks=1",
    "model.local_blocks=1",
]


def frame_ids(i: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels, instances) of frame ``i``: class ids in vertical bands, two instances (left
    and right half) with 16-bit ids as Cityscapes writes them."""
    labels = (np.arange(W)[None, :].repeat(H, 0) // 7 + i) % K
    inst = np.where(np.arange(W)[None, :].repeat(H, 0) < W // 2, 26000 + i, 26001 + i)
    return labels.astype(np.uint8), inst.astype(np.uint16)


def photo_of(labels: np.ndarray) -> np.ndarray:
    """An RGB photo whose red channel says the class (so alignment can be read back)."""
    rgb = np.zeros((*labels.shape, 3), np.uint8)
    rgb[..., 0] = labels.astype(np.uint8) * 50
    rgb[..., 1] = np.arange(labels.shape[1])[None, :] * 4  # a left-right ramp
    return rgb


def write_frames(root: Path, n: int = 3, split: str = "train", inst: bool = True) -> Path:
    """Cityscapes' layout and names: <split>_label/, <split>_inst/, <split>_img/."""
    for side in ("label", "img") + (("inst",) if inst else ()):
        (root / f"{split}_{side}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        name = f"aachen_{i:06d}_000019"
        labels, ids = frame_ids(i)
        Image.fromarray(labels).save(root / f"{split}_label" / f"{name}_gtFine_labelIds.png")
        Image.fromarray(photo_of(labels)).save(root / f"{split}_img" / f"{name}_leftImg8bit.png")
        if inst:
            Image.fromarray(ids).save(root / f"{split}_inst" / f"{name}_gtFine_instanceIds.png")
    return root


def load(root: Path, **options):
    opts = dict(root=str(root), label_nc=K, load_size=H, load_width=W, flip=False)
    return load_dataset("label-maps", **{**opts, **options})


def one_line(e: pytest.ExceptionInfo) -> str:
    text = str(e.value)
    assert "\n" not in text, text
    return text


# -- the dataset -------------------------------------------------------------------------------
def test_a_frame_is_one_hot_labels_plus_the_boundary_map_and_its_photo(tmp_path):
    ds = load(write_frames(tmp_path))
    assert len(ds) == 3 and ds.info.pairing == "paired"
    assert ds.info.shape_a == (K + 1, H, W) and ds.info.shape_b == (3, H, W)
    item = ds[1]
    a, b = item["image"], item["image_b"]
    assert a.shape == (K + 1, H, W) and b.shape == (3, H, W)
    assert torch.equal(a[:K].sum(0), torch.ones(H, W))  # exactly one class per pixel
    labels, _ = frame_ids(1)
    assert torch.equal(a[:K].argmax(0), torch.from_numpy(labels).long())
    # two instances, left and right half: the boundary is the two columns where they meet
    boundary = torch.zeros(H, W)
    boundary[:, W // 2 - 1 : W // 2 + 1] = 1
    assert torch.equal(a[K], boundary)
    red = ((b[0] + 1) * 127.5).round()
    assert torch.equal(red, torch.from_numpy(labels).float() * 50)


def test_boundaries_mark_pixels_whose_four_neighbours_differ():
    ids = torch.tensor([[1, 1, 1, 1], [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1]])
    expected = torch.tensor(
        [[0, 1, 1, 0], [1, 1, 1, 1], [0, 1, 1, 0], [0, 0, 0, 0]], dtype=torch.float
    )
    assert torch.equal(instance_boundaries(ids), expected)
    assert not instance_boundaries(torch.full((3, 5), 7)).any()  # one instance: no boundary


def test_labels_are_resized_with_nearest_to_a_non_square_size(tmp_path):
    ds = load(write_frames(tmp_path), load_size=8, load_width=24)
    a = ds[0]["image"]
    assert a.shape == (K + 1, 8, 24) and ds.info.shape_b == (3, 8, 24)
    assert torch.equal(a[:K].sum(0), torch.ones(8, 24))  # still one-hot: no blending of ids
    labels = torch.from_numpy(frame_ids(0)[0]).long()
    assert torch.equal(a[:K].argmax(0), nearest_resize(labels, (8, 24)))
    ids = torch.arange(12).view(3, 4) * 1000
    up = nearest_resize(ids, (6, 8))
    assert torch.equal(up[::2, ::2], ids) and set(up.unique().tolist()) == set(
        ids.flatten().tolist()
    )
    cropped = load(tmp_path, load_size=16, load_width=32, crop_size=8, crop_width=16, split="train")
    assert cropped[0]["image"].shape == (K + 1, 8, 16)


def test_flips_are_seeded_per_sample_and_keep_labels_and_photo_aligned(tmp_path):
    ds = load(write_frames(tmp_path), flip=True)
    first, again = fixed_examples(ds, 3, seed=4), fixed_examples(ds, 3, seed=4)
    assert all(torch.equal(first[k], again[k]) for k in first)
    flipped = set()
    for seed in range(12):
        torch.manual_seed(seed)
        item = ds[0]
        a, b = item["image"], item["image_b"]
        red = ((b[0] + 1) * 127.5).round()
        assert torch.equal(red, a[:K].argmax(0).float() * 50)  # labels and photo flip together
        flipped.add(bool(b[1, 0, 0] > b[1, 0, -1]))  # the green ramp runs right to left
    assert flipped == {True, False}


def test_without_instance_maps_the_input_is_the_one_hot_labels_alone(tmp_path):
    ds = load(write_frames(tmp_path, inst=False))
    assert ds.info.shape_a == (K, H, W) and torch.equal(ds[0]["image"].sum(0), torch.ones(H, W))
    off = load(write_frames(tmp_path / "with", inst=True), instances=False)
    assert off.info.shape_a == (K, H, W)
    with pytest.raises(DataError) as e:
        load(tmp_path, instances=True)
    assert "train_inst" in one_line(e) and "data.instances=false" in str(e.value)


def test_cityscapes_names_match_across_the_three_folders():
    names = ("x_gtFine_labelIds.png", "x_gtFine_instanceIds.png", "x_leftImg8bit.png", "x.png")
    assert {frame_key(Path(n)) for n in names} == {"x"}


def test_a_missing_folder_is_refused_in_one_line(tmp_path):
    with pytest.raises(DataError) as e:
        load(tmp_path)
    assert "train_label" in one_line(e) and "data.root" in str(e.value)
    (tmp_path / "train_label").mkdir()
    with pytest.raises(DataError) as e:
        load(tmp_path)
    assert "train_img" in one_line(e)
    with pytest.raises(DataError) as e:
        load_dataset("label-maps")
    assert "data.root" in one_line(e)


def test_a_label_id_beyond_label_nc_is_refused_naming_the_file(tmp_path):
    write_frames(tmp_path)
    with pytest.raises(DataError) as e:
        load(tmp_path, label_nc=3)[0]
    assert "class id 4" in one_line(e) and "data.label_nc=5" in str(e.value)
    assert "aachen_000000_000019_gtFine_labelIds.png" in str(e.value)


def test_mismatched_file_names_are_refused(tmp_path):
    write_frames(tmp_path)
    (tmp_path / "train_img" / "aachen_000002_000019_leftImg8bit.png").rename(
        tmp_path / "train_img" / "bremen_000002_000019_leftImg8bit.png"
    )
    with pytest.raises(DataError) as e:
        load(tmp_path)
    assert "aachen_000002_000019" in one_line(e) and "same name" in str(e.value)


def test_frames_of_different_sizes_are_refused(tmp_path):
    write_frames(tmp_path, n=1)
    Image.new("RGB", (W, H + 2)).save(
        tmp_path / "train_img" / "aachen_000000_000019_leftImg8bit.png"
    )
    with pytest.raises(DataError) as e:
        load(tmp_path)[0]
    assert "same size" in one_line(e)


# -- the colouriser ------------------------------------------------------------------------------
def test_label_maps_are_coloured_with_a_fixed_palette_and_white_boundaries():
    palette = label_palette(35)
    assert palette.shape == (35, 3) and torch.equal(palette[0], torch.zeros(3))
    assert len({tuple(c.tolist()) for c in palette}) == 35  # distinct colours
    assert torch.equal(label_palette(35), palette)  # fixed
    ids = torch.tensor([[0, 1, 2], [3, 4, 4]])
    one_hot = torch.nn.functional.one_hot(ids, K).permute(2, 0, 1).float()[None]
    edge = torch.zeros(1, 1, 2, 3)
    edge[0, 0, 0, 0] = 1
    coloured = colour_labels(torch.cat([one_hot, edge], 1))
    assert coloured.shape == (1, 3, 2, 3)
    expected = label_palette(K)[ids].permute(2, 0, 1) * 2 - 1
    expected[:, 0, 0] = 1.0  # the boundary pixel in white
    torch.testing.assert_close(coloured[0], expected)
    # without the boundary channel (or told the class count) every channel is a class
    torch.testing.assert_close(
        colour_labels(one_hot)[0], label_palette(K)[ids].permute(2, 0, 1) * 2 - 1
    )
    six = torch.nn.functional.one_hot(ids.clamp(max=5) + 1, 6).permute(2, 0, 1).float()[None]
    assert colour_labels(six).shape == (1, 3, 2, 3)
    assert torch.equal(colour_labels(six), colour_labels(six, classes=6))


# -- the recipe on label maps ----------------------------------------------------------------------
@pytest.fixture
def label_run(tmp_path, tiny_overrides):
    from ganarium.runs import start_run

    root = write_frames(tmp_path / "data", n=4)
    write_frames(root, n=2, split="test")
    run = tmp_path / "run"
    overrides = [
        f"data.root={root}",
        f"data.label_nc={K}",
        f"data.load_size={H}",
        f"data.load_width={W}",
        "train.steps=2",
        "train.batch_size=2",
        "train.n_grid=2",
        *TINY_MODEL,
        *[o for o in tiny_overrides if not o.startswith(("train.steps", "train.batch_size"))],
    ]
    torch.manual_seed(0)
    trainer = start_run("pix2pixhd", "label-maps", overrides, run_dir=str(run))
    trainer.fit()
    return trainer, run


def test_pix2pixhd_trains_two_steps_on_label_maps_and_previews_them_in_colour(label_run):
    trainer, run = label_run
    recipe = trainer.recipe
    assert trainer.step == 2 and recipe.shape_a == (K + 1, H, W)
    first_conv = next(m for m in recipe.G.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == K + 1
    assert run.joinpath("samples").is_dir() and any(run.joinpath("samples").iterdir())
    examples = trainer.previews.examples(trainer)
    assert examples["image"].shape == (2, K + 1, H, W)  # the held-out test frames
    preview = trainer.preview()
    assert preview.nrow == 3 and preview.images.shape == (6, 3, H, W)
    shown_input = preview.images[0::3]
    torch.testing.assert_close(shown_input, colour_labels(examples["image"].cpu()))
    assert (shown_input != shown_input[:, :1]).any()  # in colour, not gray


def test_a_checkpoint_holds_weights_and_state_but_no_inputs(label_run):
    trainer, run = label_run
    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    tensors: list[torch.Tensor] = []

    def collect(x):
        if isinstance(x, torch.Tensor):
            tensors.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                collect(v)
        elif isinstance(x, list | tuple):
            for v in x:
                collect(v)

    collect(state)
    assert not [t.shape for t in tensors if tuple(t.shape[-3:]) in ((K + 1, H, W), (3, H, W))]
    weights = sum(p.numel() for p in trainer.recipe.parameters()) * 4
    stored = sum(t.numel() * t.element_size() for t in tensors)
    assert stored < 4 * weights  # weights, EMA and two Adam moments; nothing input-sized


def test_the_cityscapes_preset_reads_label_maps_with_instances():
    p = load_preset("pix2pixhd", "cityscapes-2048x1024")
    assert p.data["label_nc"] + int(p.data["instances"]) == p.info["extras"]["shape_a"][0] == 36
    assert "--data label-maps" in p.reproduce["command"]
    assert p.train["n_grid"] <= 8  # preview inputs of 36 x 1024 x 2048 kept few on the device


def test_a_label_maps_run_is_evaluated_without_an_image_baseline(label_run):
    from ganarium.data import load_dataset
    from ganarium.metrics.translation import baseline_outputs, translation_metrics

    trainer, run = label_run
    root = run.parent / "data"
    held_out = load_dataset(
        "label-maps", root=str(root), split="test", label_nc=K, load_size=H, load_width=W
    )
    assert held_out.info.baseline == "none"
    assert baseline_outputs("none", held_out[0]["image"][None], (3, H, W)) is None
    results = translation_metrics(trainer.recipe, held_out, held_out.info, extractor=None)
    assert results["n_pairs"] == 2 and 0 < results["ssim"] <= 1 and results["psnr"] > 0
    assert not [k for k in results if k.startswith("baseline_")]
