import argparse
import subprocess
import sys

import pytest

import ganarium
from ganarium.cli import main

FAST = [
    "train.steps=3",
    "train.checkpoint_every=3",
    "train.progress=false",
    "train.tensorboard=false",
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "train.batch_size=8",
]


def test_list_shows_recipes_with_paper_year_family(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "wgan-gp" in out and "Improved Training of Wasserstein GANs" in out and "2017" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "dcgn", "--data", "digits"], "unknown recipe 'dcgn'. Did you mean: dcgan"),
        (["train", "dcgan", "--data", "digitz"], "unknown dataset 'digitz'. Did you mean: digits"),
        (["train", "dcgan", "--data", "digits", "lr=1"], "unknown config key 'lr'"),
        (["train", "dcgan", "--data", "digits", "train.steps=x"], "wrong type"),
        (["train", "dcgan", "--data", "folder"], "needs a root"),
        (["train", "dcgan", "--data", "folder", "data.root=/nonexistent/x"], "does not exist"),
        (["train", "dcgan"], "needs a recipe and --data"),
        (["sample", "/nonexistent/run"], "is not a ganarium run"),
    ],
)
def test_bad_input_gives_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_bad_input_in_a_real_process_has_no_traceback():
    p = subprocess.run(
        [sys.executable, "-m", "ganarium.cli", "train", "wgan_gp", "--data", "digits"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    err = p.stderr.strip()
    assert err.startswith("ganarium: error: unknown recipe 'wgan_gp'. Did you mean: wgan-gp")
    assert "\n" not in err and err.endswith("Run `ganarium list` to see all recipes.")


def test_train_sample_export_load(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "dcgan", "--data", "digits", *FAST, "--run-dir", str(run)]) == 0
    assert str(run) in capsys.readouterr().out
    out = tmp_path / "grid.png"
    assert main(["sample", str(run), "--n", "16", "--out", str(out)]) == 0 and out.exists()
    assert main(["sample", str(run), "--label", "3"]) == 2
    assert "not trained with labels" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(tmp_path / "exp")]) == 0
    model = ganarium.load(str(tmp_path / "exp"))
    assert model.generate(2).shape == (2, 1, 16, 16)
    assert ganarium.load(str(run)).generate(2).shape == (2, 1, 16, 16)


def test_resume_from_cli(tmp_path):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "gan",
                "--data",
                "ring8",
                "train.steps=2",
                "train.checkpoint_every=1",
                "train.progress=false",
                "train.tensorboard=false",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    assert main(["train", "--resume", str(run), "steps=4"]) == 0
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "pts.png")]) == 0
    assert (tmp_path / "pts.pt").exists()  # vector data is saved as a tensor, not an image


def test_eval_prints_and_saves_all_metric_groups(tmp_path, capsys):
    import json

    run = tmp_path / "run"
    assert main(["train", "dcgan", "--data", "digits", *FAST, "--run-dir", str(run)]) == 0
    assert main(["eval", str(run), "--metrics", "fid,kid,is,pr,dc,modes", "--n", "200"]) == 0
    out = capsys.readouterr().out
    saved = json.loads((run / "eval.json").read_text())
    for key in (
        "fid[digit-classifier]",
        "kid[digit-classifier]",
        "is[digit-classifier]",
        "precision[digit-classifier]",
        "recall[digit-classifier]",
        "f1[digit-classifier]",
        "density[digit-classifier]",
        "coverage[digit-classifier]",
        "classes_covered",
    ):
        assert key in saved and key in out


def test_eval_uses_the_extractor_it_is_given(tmp_path, capsys):
    import json

    run = tmp_path / "run"
    assert main(["train", "dcgan", "--data", "digits", *FAST, "--run-dir", str(run)]) == 0
    assert main(["eval", str(run), "--metrics", "fid", "--n", "50", "--extractor", "pixels"]) == 0
    saved = json.loads((run / "eval.json").read_text())
    assert "fid[pixels]" in saved and "fid[digit-classifier]" not in saved
    assert main(["eval", str(run), "--metrics", "fid", "--n", "50", "--extractor", "pixls"]) == 2
    assert "unknown feature extractor 'pixls'" in capsys.readouterr().err


def test_eval_folders_without_inception_weights_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GANARIUM_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("GANARIUM_NO_DOWNLOAD", "1")
    from PIL import Image

    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / d / "x.png")
        Image.new("RGB", (8, 8), (9, 9, 9)).save(tmp_path / d / "y.png")
    assert main(["eval", "--real", str(tmp_path / "a"), "--fake", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--inception-weights PATH" in err and "\n" not in err


def test_samples_as_a_folder_or_npz_score_like_the_run_itself(tmp_path, capsys):
    import json

    import numpy as np

    run = tmp_path / "run"
    assert main(["train", "dcgan", "--data", "digits", *FAST, "--run-dir", str(run)]) == 0
    folder = tmp_path / "fakes"
    # drawn in batches of 500, as eval draws them (noise depends on how it is batched)
    assert main(["sample", str(run), "--n", "120", "--out", f"{folder}/"]) == 0
    assert sorted(p.name for p in folder.iterdir())[:2] == ["000000.png", "000001.png"]
    assert len(list(folder.iterdir())) == 120
    npz = ["--n", "120", "--batch-size", "50", "--out", str(tmp_path / "s.npz")]
    assert main(["sample", str(run), *npz]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (120, 16, 16, 1) and images.dtype == np.uint8
    metrics = ["--metrics", "fid,kid,pr", "--n", "120"]
    assert main(["eval", str(run), *metrics]) == 0
    drawn = json.loads((run / "eval.json").read_text())
    assert main(["eval", str(run), *metrics, "--fake", str(folder)]) == 0
    read_back = json.loads((run / "eval.json").read_text())
    for key in ("fid[digit-classifier]", "kid[digit-classifier]", "precision[digit-classifier]"):
        assert read_back[key] == pytest.approx(drawn[key], rel=1e-6, abs=1e-9), key


def test_info_prints_every_hyper_parameter_and_the_check(capsys):
    from ganarium.models import RECIPES

    assert main(["info", "wgan-gp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wgan-gp: Improved Training of Wasserstein GANs (2017)")
    for key in RECIPES.get("wgan-gp").defaults:
        assert f"\n  {key} " in out, key
    assert "lambda of the gradient penalty" in out and "learning check (digits-fid" in out
    assert "offers: latent_dim" in out


def test_list_filters_by_family(capsys):
    assert main(["list", "--family", "conditional"]) == 0
    out = capsys.readouterr().out
    assert "acgan" in out and "wgan-gp" not in out


def test_every_command_documents_every_argument_and_ends_with_examples():
    from ganarium.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, cmd in sub.choices.items():
        for action in cmd._actions:
            if action.dest != "help":
                assert action.help, f"`ganarium {name}`: {action.dest} has no help"
        text = cmd.format_help()
        assert "examples:\n" in text, name
        assert 2 <= len(text.split("examples:\n")[1].strip().splitlines()) <= 3, name


def test_translate_images_of_any_size_and_folders_and_sample_translation_rows(tmp_path, capsys):
    from PIL import Image

    run = tmp_path / "p2p"
    small = [
        "model.width=8",
        "model.d_width=8",
        "model.d_layers=1",
        "train.batch_size=8",
        *FAST[:4],
    ]
    assert (
        main(
            [
                "train",
                "pix2pix",
                "--data",
                "edges2digits",
                "data.size=16",
                *small,
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    odd = tmp_path / "odd.png"
    Image.new("RGB", (23, 19), (200, 10, 10)).save(odd)  # not square, RGB for a gray model
    out = tmp_path / "out" / "t.png"  # the folder is created (its parent exists)
    assert main(["translate", str(run), "--image", str(odd), "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.size == (23, 19)  # padded to what the net needs and cropped back
    folder = tmp_path / "ins"
    folder.mkdir()
    for i in range(3):
        Image.new("L", (16 + i, 16), 255).save(folder / f"{i}.png")
    assert (
        main(["translate", str(run), "--input", str(folder), "--out", str(tmp_path / "outs")]) == 0
    )
    assert sorted(p.name for p in (tmp_path / "outs").iterdir()) == ["0.png", "1.png", "2.png"]
    assert (
        main(["translate", str(run), "--image", str(odd), "--out", str(out), "--direction", "BtoA"])
        == 2
    )
    assert "translates AtoB" in capsys.readouterr().err
    grid = tmp_path / "rows.png"
    assert (
        main(["sample", str(run), "--n", "4", "--out", str(grid)]) == 0
    )  # input | output | target
    with Image.open(grid) as img:
        assert img.size[0] < img.size[1]  # 3 columns, 4 rows


def test_sample_takes_its_grids_from_the_capability_registry(capsys):
    """`ganarium sample` adds each capability's flags and names none itself."""
    from pathlib import Path

    from ganarium.capabilities import CAPABILITIES

    source = (Path(ganarium.__file__).parent / "commands" / "sample.py").read_text()
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    help_text = capsys.readouterr().out
    for name in CAPABILITIES.names():
        flag = CAPABILITIES.get(name).flag()
        assert f'"{name}"' not in source, name
        if flag is not None:
            assert flag in help_text and flag not in source, flag
