"""Uploads drawn by the capabilities that take an input image (``draw_input``): a translator's
translation in each direction, an encoder's reconstruction, IcGAN's edit into a class,
InstaGAN's translation of a masked instance; and the page's reading of an upload at the data's
shape. Tiny untrained recipes: what is checked is the grid's layout and what feeds it."""

from __future__ import annotations

import pytest
import torch

from ganarium.capabilities import CAPABILITIES, Capability, CapabilityError, DrawContext

CTX = DrawContext(1, 0)


def _recipe(name: str):
    from ganarium.checks import check_trainer

    return check_trainer(name, steps=1)[0].recipe.eval()


def _upload(recipe, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, *recipe.info.shape, generator=g) * 2 - 1


def test_only_capabilities_that_take_an_input_draw_one_and_their_upload_is_an_image():
    with pytest.raises(NotImplementedError):
        Capability().draw_input(None, torch.zeros(1, 1, 4, 4), None, CTX)
    taking = {n for n in CAPABILITIES.names() if CAPABILITIES.get(n).takes_input}
    assert {"translate", "encode", "edit", "instance_masks"} <= taking
    for name in CAPABILITIES.names():
        cap = CAPABILITIES.get(name)
        overrides = type(cap).draw_input is not Capability.draw_input
        assert overrides == cap.takes_input, name
        if cap.takes_input:
            assert cap.control is not None and cap.control.kind == "image", name


def test_a_two_domain_translator_draws_the_upload_and_one_translation_per_direction():
    recipe = _recipe("cyclegan")
    assert recipe.capabilities().translate == ("AtoB", "BtoA")
    image = _upload(recipe)
    with torch.no_grad():
        images, nrow = CAPABILITIES.get("translate").draw_input(recipe, image, None, CTX)
        ab = recipe.translate(image, "AtoB")
        ba = recipe.translate(image, "BtoA")
    assert nrow == 3 and images.shape == (3, *recipe.info.shape)
    assert torch.equal(images[0], image[0])
    assert torch.allclose(images[1], ab[0]) and torch.allclose(images[2], ba[0])


def test_a_super_resolver_gets_its_small_side_and_its_output_fits_the_grid():
    recipe = _recipe("srgan")
    small = tuple(recipe.info.shape_a)
    assert small != tuple(recipe.info.shape)
    seen = []
    translate = recipe.translate
    recipe.translate = lambda x, d: seen.append(tuple(x.shape[1:])) or translate(x, d)
    with torch.no_grad():
        images, nrow = CAPABILITIES.get("translate").draw_input(recipe, _upload(recipe), None, CTX)
    assert seen == [small] and nrow == 2 and images.shape == (2, *recipe.info.shape)


def test_an_encoder_draws_the_upload_and_its_reconstruction():
    recipe = _recipe("bigan")
    image = _upload(recipe)
    with torch.no_grad():
        images, nrow = CAPABILITIES.get("encode").draw_input(recipe, image, None, CTX)
        again = recipe.reconstruct(image)
    assert nrow == 2 and torch.equal(images[0], image[0])
    assert torch.allclose(images[1], again[0])


def test_an_editor_draws_the_upload_in_the_class_asked_and_refuses_other_values():
    recipe = _recipe("icgan")
    cap = CAPABILITIES.get("edit")
    image = _upload(recipe)
    with torch.no_grad():
        grids = {v: cap.draw_input(recipe, image, v, CTX) for v in ("2", 6, 6.0)}
        want = recipe.edit(image, 6)
    assert all(nrow == 2 for _, nrow in grids.values())
    assert torch.allclose(grids[6][0][1], want[0]) and torch.equal(grids[6][0], grids[6.0][0])
    assert not torch.allclose(grids["2"][0][1], grids[6][0][1])
    for bad in ("seven", 2.5, -1, recipe.info.num_classes, None):
        with pytest.raises(CapabilityError, match="class"):
            cap.draw_input(recipe, image, bad, CTX)


def test_instance_masks_translate_the_masked_instance_and_show_the_mask():
    recipe = _recipe("instagan")
    cap = CAPABILITIES.get("instance_masks")
    image = _upload(recipe)
    mask = -torch.ones_like(image)
    mask[..., :8, :8] = 1  # a light square: the instance
    seen = []
    translate = recipe.translate
    recipe.translate = lambda x, d, masks: seen.append(masks.clone()) or translate(x, d, masks)
    with torch.no_grad():
        images, nrow = cap.draw_input(recipe, image, mask, CTX)
        context, _ = cap.draw_input(recipe, image, None, CTX)
    assert nrow == 2 + len(recipe.capabilities().translate) and len(images) == nrow
    assert images[1].eq(1).sum() == 8 * 8 * image.shape[1]  # the mask, white on black
    assert seen[0].sum() == 8 * 8 and seen[-1].sum() == 0  # no mask: the context alone
    assert not torch.equal(images[2], context[2])  # the mask reaches the translator


def test_the_page_reads_an_upload_at_the_datas_shape(tmp_path):
    from PIL import Image

    from ganarium.app import PageError
    from ganarium.app.drawing import RunView

    view = RunView(tmp_path, _recipe("bigan"))
    path = tmp_path / "wide.png"
    Image.new("RGB", (40, 30), (255, 255, 255)).save(path)
    image = view.read_upload(str(path), "image")
    assert image.shape == (1, *view.recipe.info.shape)
    assert image.min() == pytest.approx(1.0)  # white paper reads as +1
    assert view.read_upload(None, "image") is None
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(PageError, match="not an image"):
        view.read_upload(str(bad), "image")
    with pytest.raises(PageError, match="upload an image to reconstruct first"):
        view.draw_input(CAPABILITIES.get("encode"), None, None, 0)
    images, nrow = view.draw_input(CAPABILITIES.get("encode"), str(path), None, 3)
    assert nrow == 2 and images.shape == (2, *view.recipe.info.shape)
