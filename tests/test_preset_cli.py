"""`ganarium train RECIPE --preset NAME` and `ganarium info RECIPE [--preset NAME]`, on a preset
file written to a temporary PRESETS_DIR: a wrong name fails in one line before any run folder
exists, a preset trains with overrides on top and its run resumes and loads, and info prints the
per-player counts beside the official figures."""

from __future__ import annotations

import json

import pytest
import yaml
from omegaconf import OmegaConf

import ganarium
import ganarium.presets as presets
from ganarium.cli import main
from ganarium.data import DataInfo, dataset_info, load_dataset
from ganarium.models import RECIPES
from ganarium.presets import build_preset_recipe, player_parameter_counts

QUIET = ["train.progress=false", "train.tensorboard=false", "train.checkpoint_every=2"]


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """dcgan's preset `tiny` (16x16 digits, widths 8, batch 8, 2 steps) in a temporary folder."""
    folder = tmp_path / "presets" / "dcgan"
    folder.mkdir(parents=True)
    monkeypatch.setattr(presets, "PRESETS_DIR", folder.parent)
    info = DataInfo("t", (1, 16, 16))
    nets = RECIPES.get("dcgan")(info, g_width=8, d_width=8, z_dim=16)
    raw = {
        "title": "DCGAN, tiny (a test preset)",
        "source": "tests/test_preset_cli.py",
        "info": {"shape": [1, 16, 16], "num_classes": 0},
        "model": {"g_width": 8, "d_width": 8, "z_dim": 16},
        "train": {"batch_size": 8, "steps": 2, "lr_schedule": "linear"},
        "data": {"size": 16},
        "official": {
            "params": {
                "G": sum(p.numel() for p in nets.G.parameters()),
                "D": sum(p.numel() for p in nets.D.parameters()),
            },
            "match": "exact",
            "source": "the nets' own parameters",
        },
        "reproduce": {"command": "ganarium train dcgan --preset tiny --data digits"},
    }
    (folder / "tiny.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return raw


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_a_wrong_preset_fails_in_one_line_and_creates_nothing(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "dcgan", "--data", "digits", "--preset"]
    assert main([*argv, "tiyn"]) == 2
    err = one_line(capsys)
    assert "no preset 'tiyn'" in err and "its presets: tiny" in err and "Did you mean: tiny" in err
    assert main([*argv, "X", "--run-dir", str(tmp_path / "r")]) == 2
    assert "no preset 'X'" in one_line(capsys)
    assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()
    assert main(["train", "wgan-gp", "--data", "digits", "--preset", "tiny"]) == 2
    assert "recipe 'wgan-gp' has no preset 'tiny' (it has none)" in one_line(capsys)


def test_preset_with_resume_is_refused(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), "--preset", "tiny"]) == 2
    assert "--resume takes no --preset" in one_line(capsys)


def test_a_preset_trains_with_overrides_on_top_and_resumes(tiny, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "dcgan", "--preset", "tiny", "--data", "digits", "--run-dir", str(run)]
    assert main([*argv, "model.d_width=4", *QUIET]) == 0
    cfg = OmegaConf.load(run / "config.yaml")
    assert cfg.preset == "tiny" and cfg.recipe == "dcgan"
    assert cfg.model.g_width == 8 and cfg.model.z_dim == 16 and cfg.data.size == 16  # preset
    assert cfg.train.batch_size == 8 and cfg.train.lr_schedule == "linear"  # preset
    assert cfg.model.d_width == 4  # the override on top
    assert "for 2 steps" in capsys.readouterr().out  # the preset's steps
    model = ganarium.load(str(run))
    assert model.generate(2).shape == (2, 1, 16, 16)
    assert sum(p.numel() for p in model.D.parameters()) < tiny["official"]["params"]["D"]
    assert main(["train", "--resume", str(run), "train.steps=4", *QUIET[:2]]) == 0
    assert "for 4 steps" in capsys.readouterr().out
    assert OmegaConf.load(run / "config.yaml").preset == "tiny"


def test_info_lists_the_presets(tiny, capsys):
    assert main(["info", "dcgan"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("presets (") :]
    assert "tiny" in block and tiny["title"] in block and tiny["source"] in block


def test_info_preset_json_gives_per_player_totals(tiny, capsys):
    assert main(["info", "dcgan", "--preset", "tiny", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    official = tiny["official"]["params"]
    assert out["nets"] == official and set(out["nets"]) == {"G", "D"}
    assert out["official"]["params"] == official and out["official"]["match"] == "exact"
    assert out["shape"] == [1, 16, 16] and out["data"] is None
    assert out["nets"] == player_parameter_counts(build_preset_recipe("dcgan", "tiny"))


def test_info_preset_counts_for_the_datas_shape_and_overrides(tiny, capsys):
    argv = ["info", "dcgan", "--preset", "tiny", "--data", "digits", "data.size=24"]
    assert main([*argv, "model.g_width=16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    info = dataset_info(load_dataset("digits", size=24))
    expect = RECIPES.get("dcgan")(info, g_width=16, d_width=8, z_dim=16)
    assert out["shape"] == [1, 24, 24] and out["num_classes"] == info.num_classes == 10
    assert out["nets"] == player_parameter_counts(expect)
    assert out["official"]["params"] == tiny["official"]["params"]


def test_info_preset_text_shows_built_and_official(tiny, capsys):
    assert main(["info", "dcgan", "--preset", "tiny"]) == 0
    out = capsys.readouterr().out
    g = tiny["official"]["params"]["G"]
    assert out.startswith("dcgan --preset tiny: DCGAN, tiny")
    assert f"{g:,}" in out and "equal" in out and "(exact)" in out
    assert "reproduce: ganarium train dcgan --preset tiny --data digits" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--json"], "--json needs --preset NAME"),
        (["--data", "digits"], "--data needs --preset NAME"),
        (["model.g_width=4"], "model.g_width=4 needs --preset NAME"),
        (["--preset", "tiny", "model.g_width=4"], "key=value options need --data NAME"),
        (["--preset", "tiny", "--data", "digits", "model.g_widht=4"], "Did you mean: g_width"),
    ],
)
def test_info_refuses_options_it_cannot_use(tiny, argv, message, capsys):
    assert main(["info", "dcgan", *argv]) == 2
    assert message in one_line(capsys)
