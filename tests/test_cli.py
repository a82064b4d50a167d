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
