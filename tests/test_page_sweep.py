"""The page's drawing path on every registered recipe: a one-step run of each (at its learning
check's data and tiny model settings) is loaded as the page loads it, and its samples, every
capability control it shows (at the control's default, or its first choice) and every upload
panel (with a real image of the data) draw a finite grid. The browser tests (test_page.py)
drive the widgets; this sweep proves the same calls hold for every recipe family."""

from __future__ import annotations

import pytest
import torch

from ganarium.models import RECIPES

pytest.importorskip("gradio")

TRAIN = [
    "train.steps=1",
    "train.batch_size=8",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.log_every=1",
    "train.checkpoint_every=1",
]


def _items(section: str, values: dict) -> list[str]:
    return [f"{section}.{k}={list(v) if isinstance(v, tuple) else v}" for k, v in values.items()]


def _value(cap, view, upload) -> object:
    """What a user leaves in, or first picks from, ``cap``'s control."""
    from ganarium.app.controls import choices

    control = cap.control
    if control.kind == "image":
        return str(upload)
    if control.kind == "dropdown" and control.default is None:
        return choices(control, view, optional=False)[0]
    if control.kind == "text" and not control.default:
        return view.recipe.caption_vocabulary()[0]
    return control.default


@pytest.mark.slow
@pytest.mark.parametrize("name", RECIPES.names())
def test_every_recipe_draws_every_control_of_the_page(name, tmp_path):
    from PIL import Image

    from ganarium.app.controls import Slot
    from ganarium.app.drawing import RunView, takes_value
    from ganarium.commands.sample import to_uint8
    from ganarium.data import load_dataset
    from ganarium.runs import start_run

    check = RECIPES.meta(name)["check"]
    overrides = _items("data", check.data_options) + _items("model", check.model) + TRAIN
    run = tmp_path / "run"
    start_run(name, check.data, overrides, run_dir=str(run)).fit()
    view = RunView.load(run)
    data = load_dataset(check.data, **check.data_options)
    first = data[0]
    upload = tmp_path / "upload.png"
    if first["image"].dim() == 3 and first["image"].shape[0] in (1, 3):
        arr = to_uint8(first["image"][None].clamp(-1, 1))[0].numpy()
        Image.fromarray(arr.squeeze(-1) if arr.shape[-1] == 1 else arr).save(upload)

    def finite(grid) -> None:
        images, nrow = grid
        assert images.numel() and nrow >= 1 and torch.isfinite(images).all()

    if view.recipe.info.kind == "image":
        finite(view.draw([], 4, 0))
    for cap in view.with_controls():
        slot = Slot(cap, cap.flag(), takes_value(view.parser, cap.flag()))
        finite(view.draw(slot.flags(_value(cap, view, upload)), 4, 0))
    for cap in view.takes_input():
        value = cap.input_value and _value_of_input(cap, view, upload)
        finite(view.draw_input(cap, str(upload), value, 0))


def _value_of_input(cap, view, upload) -> object:
    control = cap.input_value
    if control.kind == "image":
        return str(upload)
    return control.default
