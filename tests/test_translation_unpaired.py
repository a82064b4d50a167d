"""The unpaired translation family: CycleGAN's folder layout, the offline unpaired tasks, the
history pool, the translator and PatchGAN nets at several sizes, translation of any size, and
bad input refused in one line with nothing written."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganarium.compat import upgrade_model_state
from ganarium.data import load_dataset
from ganarium.data.stream import BatchStream, fixed_examples
from ganarium.data.transforms import to_channels
from ganarium.errors import DataError, GanariumError
from ganarium.models import RECIPES, CapabilityError
from ganarium.nets.patchgan import (
    PatchGANDiscriminator,
    patchgan_min_size,
    patchgan_receptive_field,
)
from ganarium.nets.translator import EncoderDecoderTranslator, ResnetTranslator, translate_in_eval
from ganarium.nn.image_pool import ImagePool
from ganarium.runs import load_recipe, start_run

TINY = [
    "data.size=16",
    "model.g_width=4",
    "model.d_width=4",
    "model.d_layers=2",
    "train.steps=3",
    "train.batch_size=4",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.log_every=1",
    "train.checkpoint_every=3",
]


def _write(folder: Path, n: int, size: tuple[int, int], mode: str = "RGB") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    for i in range(n):
        shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(folder / f"{i}.png")


def _layout(root: Path, mode_b: str = "RGB", test_b: int = 3) -> Path:
    _write(root / "trainA", 5, (20, 18))
    _write(root / "trainB", 3, (24, 24), mode_b)
    _write(root / "testA", 2, (20, 20))
    _write(root / "testB", test_b, (20, 20), mode_b)
    return root


def _one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text and text
    return text


# -- data ----------------------------------------------------------------------------------------
def test_cyclegan_folder_layout_crops_flips_and_draws_b_independently(tmp_path):
    root = _layout(tmp_path / "horse2zebra")
    train = load_dataset("unpaired-folder", root=str(root), load_size=18, crop_size=16)
    assert len(train) == 5 and train.info.pairing == "unpaired"
    assert train.info.shape == train.info.shape_b == (3, 16, 16)
    # B is drawn at random per sample seed: the same seeds give the same batches, others differ
    first = [next(BatchStream(train, 4, seed=s))["image_b"] for s in (0, 0, 1)]
    assert torch.equal(first[0], first[1]) and not torch.equal(first[0], first[2])
    test = load_dataset("unpaired-folder", root=str(root), split="test", load_size=18, crop_size=16)
    assert len(test) == 3 and torch.equal(test[2]["image"], test[0]["image"])  # cycles A
    assert torch.equal(test[1]["image_b"], test[1]["image_b"])  # centred, never flipped


def test_folder_sides_of_different_channel_counts_are_refused_or_converted(tmp_path):
    root = _layout(tmp_path / "mixed", mode_b="L")
    with pytest.raises(DataError) as err:
        load_dataset("unpaired-folder", root=str(root), load_size=16, crop_size=16)
    assert "data.channels" in _one_line(err)
    converted = load_dataset(
        "unpaired-folder", root=str(root), load_size=16, crop_size=16, channels=3
    )
    assert converted[0]["image_b"].shape == (3, 16, 16)


def test_empty_test_b_and_missing_folders_are_refused_and_nothing_is_written(tmp_path):
    root = _layout(tmp_path / "empty", test_b=0)
    (root / "testB").mkdir(exist_ok=True)
    with pytest.raises(DataError) as err:
        load_dataset("unpaired-folder", root=str(root), load_size=16, crop_size=16)
    assert "testB" in _one_line(err)
    run = tmp_path / "run"
    with pytest.raises(DataError):
        start_run(
            "cyclegan",
            "unpaired-folder",
            [f"data.root={root}", "data.load_size=16", "data.crop_size=16", *TINY[1:]],
            run_dir=str(run),
        )
    assert not run.exists()
    (root / "testB").rmdir()
    with pytest.raises(DataError) as err:
        load_dataset("unpaired-folder", root=str(root))
    assert "partner" in _one_line(err)
    with pytest.raises(DataError) as err:
        load_dataset("unpaired-folder", root=str(tmp_path / "nowhere"))
    _one_line(err)


@pytest.mark.parametrize("name", ["digits-textured", "digits-thick"])
def test_offline_unpaired_tasks_keep_labels_and_hold_out_a_test_split(name):
    train, test = load_dataset(name, size=16), load_dataset(name, size=16, split="test")
    (a, ya), (b, yb) = train.side("A"), train.side("B")
    assert train.info.pairing == "unpaired" and train.info.num_classes == 10
    assert (
        tuple(b.shape[1:]) == train.info.shape
        and tuple(a.shape[1:]) == train.info.extras["shape_a"]
    )
    assert len(a) == len(b) == 2000 and len(test.side("A")[0]) == 500
    assert set(ya.tolist()) == set(yb.tolist()) == set(range(10))
    assert a.min() >= -1 and b.max() <= 1
    item = train[0]
    assert set(item) == {"image", "image_b", "label", "label_b"}
    # the two sides are different digits (disjoint halves), the paired variant the same ones
    paired = load_dataset(name, size=16, paired=True)
    assert paired.info.pairing == "paired" and len(paired.side("A")[0]) == 4000
    assert torch.equal(paired[7]["label"], paired[7]["label_b"])
    assert not torch.equal(train.side("A")[0][:50].mean(1), train.side("B")[0][:50].mean(1))


def test_thick_digits_are_thicker_and_textured_digits_are_colour():
    thick = load_dataset("digits-thick", size=16, paired=True)
    a, b = thick.side("A")[0], thick.side("B")[0]
    assert (b > 0).float().mean() > 1.4 * (a > 0).float().mean()
    tex = load_dataset("digits-textured", size=16)
    colour = tex.side("B")[0]
    assert (colour[:, 0] - colour[:, 1]).abs().mean() > 0.05  # not gray
    plain = tex.side("A")[0]
    assert torch.equal(plain[:, 0], plain[:, 2])


# -- the pool ------------------------------------------------------------------------------------
def test_history_pool_fills_then_swaps_half_and_round_trips():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 4
    new = torch.full((200, 1, 1, 1), 9.0)
    out = pool.query(new)
    from_history = (out != 9).sum().item()
    assert 0 < from_history <= 4  # at most the 4 stored images come back, each once
    old = torch.cat(pool.images)
    restored = ImagePool(1)
    restored.load_state_dict(pool.state_dict())
    assert restored.size == 4 and torch.equal(torch.cat(restored.images), old)
    assert torch.equal(ImagePool(0).query(first), first)
    with pytest.raises(GanariumError):
        ImagePool(-1)


# -- nets ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layers,rf", [(0, 1), (1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field_and_sizes(layers, rf):
    assert patchgan_receptive_field(layers) == rf
    d = PatchGANDiscriminator(3, cond_channels=1, width=4, layers=layers)
    for side in (patchgan_min_size(layers), 37):
        out = d(torch.randn(2, 3, side, side + 5), torch.randn(2, 1, side, side + 5))
        assert out.shape[:2] == (2, 1) and min(out.shape[-2:]) >= 1
    with pytest.raises(ValueError):
        d(torch.randn(1, 3, 40, 40))  # conditional: needs its condition
    if layers:
        with pytest.raises(GanariumError):
            d(torch.randn(1, 3, 5, 5), torch.randn(1, 1, 5, 5))
    # the measured receptive field: one output's gradient reaches exactly rf input pixels
    probe = PatchGANDiscriminator(1, width=2, layers=layers, norm="none")
    x = torch.zeros(1, 1, 160, 160, requires_grad=True)
    y = probe(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    assert int(rows.max() - rows.min() + 1) == rf


@pytest.mark.parametrize("side", [8, 16, 20, 33])
def test_translators_take_any_size(side):
    for c_in, c_out, net in (
        (1, 3, ResnetTranslator(1, 3, 4, 1, 2)),
        (3, 1, EncoderDecoderTranslator(3, 1, 4, 3)),
    ):
        x = torch.rand(2, c_in, side, side + 3) * 2 - 1
        out = translate_in_eval(net, x, net.multiple)
        assert out.shape == (2, c_out, side, side + 3) and out.abs().max() <= 1


# -- recipes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("recipe", ["cyclegan", "discogan", "dualgan", "csgan"])
def test_translate_any_size_both_ways_and_refuse_what_it_cannot_read(recipe):
    info = load_dataset("digits-thick", size=16).info
    torch.manual_seed(0)
    model = RECIPES.get(recipe)(info, g_width=4, d_width=4, d_layers=2)
    for direction in ("AtoB", "BtoA"):
        out = model.translate(torch.rand(2, 1, 13, 21) * 2 - 1, direction)
        assert out.shape == (2, 1, 13, 21) and out.abs().max() <= 1
    rgb = torch.rand(2, 3, 16, 16) * 2 - 1  # RGB to a gray domain: read as its luma
    torch.testing.assert_close(model.translate(rgb), model.translate(to_channels(rgb, 1)))
    with pytest.raises(DataError) as err:
        model.translate(torch.rand(2, 4, 16, 16))
    assert "channel" in _one_line(err)
    with pytest.raises(CapabilityError) as err:
        model.translate(torch.rand(2, 1, 16, 16), "AtoC")
    assert "AtoB, BtoA" in _one_line(err)


@pytest.mark.parametrize("recipe", ["cyclegan", "discogan", "dualgan", "csgan", "instagan"])
def test_two_domain_translators_refuse_generate_and_keep_no_training_inputs(recipe):
    data, size = ("instance-scenes", 24) if recipe == "instagan" else ("digits-thick", 16)
    info = load_dataset(data, size=size).info
    model = RECIPES.get(recipe)(info, g_width=4, d_width=4, d_layers=2)
    with pytest.raises(CapabilityError) as err:
        model.generate(2)
    assert f"recipe {recipe!r} translates images: use translate(x, direction)" in _one_line(err)
    assert not [k for k in model.state_dict() if k.startswith("kept")]
    with pytest.raises(CapabilityError) as err:
        model.preview(12)  # held-out examples are needed
    assert "examples" in _one_line(err)


@pytest.mark.parametrize("recipe", ["cyclegan", "instagan"])
def test_a_state_dict_with_the_kept_buffers_of_0_1_loads_through_the_key_map(recipe):
    data, size = ("instance-scenes", 24) if recipe == "instagan" else ("digits-thick", 16)
    info = load_dataset(data, size=size).info
    options = dict(g_width=4, g_blocks=1, d_width=4, d_layers=2)
    torch.manual_seed(0)
    old = RECIPES.get(recipe)(info, **options).state_dict()
    old.update(kept_a=torch.rand(8, 1, size, size), kept_b=torch.rand(8, 1, size, size))
    old["kept_count"] = torch.tensor(8)
    if recipe == "instagan":
        old["kept_mask_a"] = torch.zeros(8, 2, size, size)
    torch.manual_seed(1)
    model = RECIPES.get(recipe)(info, **options)
    with pytest.raises(RuntimeError, match="kept_count"):
        model.load_state_dict(old)
    model.load_state_dict(upgrade_model_state(old, 1))  # strict: only the kept buffers dropped
    loaded = model.state_dict()
    assert loaded.keys() == {k for k in old if not k.startswith("kept")}
    assert all(torch.equal(v, old[k]) for k, v in loaded.items())


@pytest.mark.parametrize("recipe", ["cyclegan", "dualgan"])
def test_paired_or_one_domain_data_is_refused_in_one_line_and_nothing_is_written(recipe, tmp_path):
    for data in ("edges2digits", "digits"):
        run = tmp_path / f"{recipe}-{data}"
        with pytest.raises(DataError) as err:
            start_run(recipe, data, TINY, run_dir=str(run))
        assert recipe in _one_line(err) and not run.exists()


def test_csgan_trains_on_paired_data_and_cyclegan_refuses_it(tmp_path):
    trainer = start_run(
        "csgan", "digits-thick", ["data.paired=true", *TINY], run_dir=str(tmp_path / "cs")
    )
    history = trainer.fit()
    assert any("G/cyclic_synthesized" in r for r in history)
    with pytest.raises(DataError):
        start_run(
            "cyclegan", "digits-thick", ["data.paired=true", *TINY], run_dir=str(tmp_path / "c")
        )


def test_cyclegan_pools_survive_the_checkpoint_and_previews_show_held_out_examples(tmp_path):
    trainer = start_run(
        "cyclegan", "digits-textured", ["model.pool_size=5", *TINY], run_dir=str(tmp_path / "run")
    )
    trainer.fit()
    recipe = trainer.recipe
    assert len(recipe.pool_a) == 5
    loaded = load_recipe(tmp_path / "run")
    assert torch.equal(torch.stack(loaded.pool_b.images), torch.stack(recipe.pool_b.images))
    examples = fixed_examples(load_dataset("digits-textured", size=16, split="test"), 4, 0)
    preview = loaded.preview(12, examples)
    assert preview.nrow == 6 and preview.images.shape == (12, 3, 16, 16)
    torch.testing.assert_close(preview.images, recipe.eval().preview(12, examples).images)
    # the first row: A, A -> B, A -> B -> A, B, B -> A, B -> A -> B
    a = examples["image"][:1]
    torch.testing.assert_close(preview.images[0:1], a)
    torch.testing.assert_close(preview.images[1:2], loaded.translate(a))
    torch.testing.assert_close(preview.images[2:3], loaded.translate(loaded.translate(a), "BtoA"))
    torch.testing.assert_close(preview.images[3], examples["image_b"][0])


def test_cyclegan_learning_rate_is_constant_then_decays_linearly(tmp_path):
    """The paper's schedule is the Trainer's linear schedule from half way, which CycleGAN
    declares in its train_defaults."""
    from ganarium.runs import start_run
    from ganarium.training.trainer import Callback

    items = ["data.size=16", "model.g_width=4", "model.d_width=4", "model.d_layers=2"]
    items += ["model.g_blocks=1", "train.steps=8", "train.batch_size=4", "train.progress=false"]
    trainer = start_run("cyclegan", "digits-thick", items, run_dir=str(tmp_path / "run"))
    assert trainer.cfg.lr_schedule == "linear" and trainer.cfg.lr_decay_start == 0.5
    base, seen = trainer.optimizers["G"].param_groups[0]["lr"], {}

    class Watch(Callback):
        def on_step(self, t):
            seen[t.step] = t.optimizers["G"].param_groups[0]["lr"] / base

    trainer.fit(callbacks=[Watch()])
    assert [round(seen[s], 6) for s in (2, 4, 6, 8)] == [1.0, 1.0, 0.5, 0.0]


# -- instance scenes and InstaGAN --------------------------------------------------------------
def test_instance_scenes_have_one_mask_per_instance_and_unmasked_distractors():
    from ganarium.checks.instances import background, instance_crops

    scenes = load_dataset("instance-scenes", size=24)
    info = scenes.info
    assert (
        info.pairing == "unpaired" and info.extras["instances"] == 2 and info.shape == (3, 24, 24)
    )
    item = scenes[0]
    assert set(item) == {"image", "mask", "image_b", "mask_b"} and item["mask"].shape == (2, 24, 24)
    masks = scenes.extra_a["mask"]
    counts = (masks.flatten(2).amax(2) > 0).sum(1)
    assert set(counts.tolist()) == {1, 2}  # 1..K instances, empty slots padded
    assert ((masks[:, 0] * masks[:, 1]).sum() == 0).item()  # instances never overlap
    # bright pixels away from every mask: the distractors, in about half of the scenes
    bright = (scenes.a.add(1).div(2).amax(1, keepdim=True) > 0.7).float() * background(masks)
    share = (bright.flatten(1).sum(1) > 4).float().mean()
    assert 0.3 < share < 0.7
    crops = instance_crops(scenes.a[:10], masks[:10])
    assert crops.shape == (int(counts[:10].sum()), 3, 11, 11)
    test = load_dataset("instance-scenes", size=24, split="test")
    assert len(test) == 300 and not torch.equal(test.a[:5], scenes.a[:5])


def test_instagan_translates_instances_of_any_size_and_refuses_data_without_masks(tmp_path):
    info = load_dataset("instance-scenes", size=24).info
    torch.manual_seed(0)
    model = RECIPES.get("instagan")(info, g_width=4, g_blocks=1, d_width=4, d_layers=2)
    x, masks = torch.rand(2, 3, 21, 19) * 2 - 1, torch.zeros(2, 1, 21, 19)
    masks[0, 0, 3:9, 4:10] = 1
    y, out = model.translate_instances(x, masks, "AtoB")
    assert y.shape == x.shape and out.shape == masks.shape and 0 <= out.min() <= out.max() <= 1
    assert model.translate(x, "BtoA").shape == x.shape  # no masks: no instance to translate
    with pytest.raises(DataError) as err:
        model.translate_instances(x, torch.zeros(2, 3, 21, 19))  # more masks than slots
    _one_line(err)
    run = tmp_path / "run"
    with pytest.raises(DataError) as err:
        start_run("instagan", "digits-thick", TINY, run_dir=str(run))
    assert "mask" in _one_line(err) and not run.exists()


def test_instagan_trains_sequentially_and_its_pools_hold_images_with_masks(tmp_path):
    options = [
        "data.size=24",
        "model.g_width=4",
        "model.g_blocks=1",
        "model.d_width=4",
        "model.d_layers=2",
        "model.pool_size=3",
        *TINY[4:],
    ]
    trainer = start_run("instagan", "instance-scenes", options, run_dir=str(tmp_path / "run"))
    history = trainer.fit()
    assert {"G/context", "G/cycle", "G/identity", "D/d_b"} <= set(history[-1])
    recipe = trainer.recipe
    assert len(recipe.pool_b) == 3 and recipe.pool_b.images[0].shape == (3 + 2 + 2, 24, 24)
    loaded = load_recipe(tmp_path / "run")
    assert torch.equal(torch.stack(loaded.pool_a.images), torch.stack(recipe.pool_a.images))
    examples = fixed_examples(load_dataset("instance-scenes", size=24, split="test"), 4, 0)
    preview = loaded.preview(12, examples)
    assert preview.nrow == 6 and preview.images.shape == (12, 3, 24, 24)
    torch.testing.assert_close(preview.images, recipe.eval().preview(12, examples).images)
