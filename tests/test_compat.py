"""Files written by earlier versions: checkpoints and exports of format 1 (ganarium 0.1) load
through the key map; a newer format is refused in one line naming it."""

from __future__ import annotations

import json

import pytest
import torch

from ganarium.checkpoint import load_checkpoint, save_checkpoint
from ganarium.compat import FORMAT_VERSION
from ganarium.errors import CheckpointError

TINY_PIX2PIX = ["model.width=8", "model.d_width=8", "model.d_layers=1"]


def _as_format_1(state: dict) -> dict:
    """What 0.1 wrote: format 1, and the translators' kept training inputs in buffers."""
    model = dict(state["model"])
    model["kept"] = torch.zeros(16, 1, 16, 16)
    model["kept_n"] = torch.tensor(16)
    return {**state, "model": model, "format_version": 1}


@pytest.fixture
def pix2pix_run(tmp_path, tiny_overrides):
    from ganarium.runs import start_run

    run = tmp_path / "r"
    start_run("pix2pix", "edges2digits", TINY_PIX2PIX + tiny_overrides, run_dir=str(run)).fit()
    return run


def test_a_format_1_checkpoint_of_a_translator_loads_and_resumes(pix2pix_run):
    from ganarium.runs import load_recipe, resume_run

    latest = pix2pix_run / "checkpoints" / "latest.pt"
    old = _as_format_1(torch.load(latest, weights_only=True))
    torch.save(old, latest)
    state = load_checkpoint(latest)
    assert "kept" not in state["model"] and "kept_n" not in state["model"]
    recipe = load_recipe(str(pix2pix_run))
    assert recipe.translate(torch.zeros(2, 1, 16, 16)).shape == (2, 1, 16, 16)
    trainer = resume_run(str(pix2pix_run), overrides=["train.steps=6"])
    trainer.fit()
    assert trainer.step == 6


def test_a_format_1_export_loads(pix2pix_run, tmp_path):
    from safetensors.torch import load_file, save_file

    import ganarium
    from ganarium.export import export_run

    out = export_run(str(pix2pix_run), str(tmp_path / "exported"))
    meta = json.loads((out / "model.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["ganarium_version"] == "0.2.0"
    del meta["format_version"], meta["ganarium_version"]  # 0.1 wrote neither
    (out / "model.json").write_text(json.dumps(meta))
    weights = load_file(str(out / "model.safetensors"))
    weights["kept"], weights["kept_n"] = torch.zeros(16, 1, 16, 16), torch.tensor(16)
    save_file(weights, str(out / "model.safetensors"))
    recipe = ganarium.load(str(out))
    assert recipe.translate(torch.zeros(1, 1, 16, 16)).shape == (1, 1, 16, 16)


def test_a_newer_format_is_refused_in_one_line(tmp_path):
    path = tmp_path / "future.pt"
    save_checkpoint(path, {"model": {}})
    state = torch.load(path, weights_only=True)
    torch.save({**state, "format_version": FORMAT_VERSION + 1}, path)
    with pytest.raises(CheckpointError, match=r"written by a newer ganarium \(file format 3") as e:
        load_checkpoint(path)
    assert "\n" not in str(e.value) and "upgrade ganarium" in str(e.value)


def test_checkpoints_are_written_in_the_current_format(tmp_path):
    path = tmp_path / "now.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(1)}})
    assert load_checkpoint(path)["format_version"] == FORMAT_VERSION


def test_a_run_config_from_0_1_with_removed_keys_loads_and_a_new_one_is_refused(
    tmp_path, tiny_overrides
):
    from omegaconf import OmegaConf

    from ganarium.errors import ConfigError
    from ganarium.runs import load_recipe, start_run

    run = tmp_path / "c"
    items = ["model.g_width=4", "model.d_width=4", "model.d_layers=2", "data.size=16"]
    start_run("cyclegan", "digits-thick", items + tiny_overrides, run_dir=str(run)).fit()
    cfg = OmegaConf.load(run / "config.yaml")
    cfg.model.kept_examples = 8  # what 0.1 wrote
    OmegaConf.save(cfg, run / "config.yaml")
    assert load_recipe(str(run)).translate(torch.zeros(1, 1, 16, 16)).shape[0] == 1
    with pytest.raises(ConfigError, match="model.kept_examples is no longer a hyper-parameter"):
        start_run(
            "cyclegan", "digits-thick", ["model.kept_examples=8"], run_dir=str(tmp_path / "n")
        )
