"""Conditional recipes (issue 3, first part): label-aware sampling, the no-labels error, and
the learning checks of CGAN and AC-GAN (requested-class accuracy by the digit classifier)."""

import pytest
import torch

from ganarium.checks import run_check
from ganarium.cli import main
from ganarium.errors import DataError
from ganarium.nn.conditioning import LatentConditioner
from ganarium.runs import start_run

FAST = [
    "train.steps=2",
    "train.checkpoint_every=2",
    "train.progress=false",
    "train.tensorboard=false",
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "train.batch_size=16",
]


def test_conditional_recipe_refuses_unlabelled_data(tmp_path):
    with pytest.raises(DataError, match="needs labelled data"):
        start_run("cgan", "ring8", ["train.steps=1"], run_dir=str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("mode", ["concat", "hadamard"])
def test_latent_fusions(mode):
    cond = LatentConditioner(8, 10, mode)
    z, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 3])
    out = cond(z, y)
    assert out.shape == (4, cond.out_dim) and (cond.out_dim == 16) == (mode == "concat")
    out.sum().backward()
    assert cond.embed.weight.grad.abs().sum() > 0


def test_sample_by_label_and_by_class(tmp_path):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "cgan",
                "--data",
                "digits",
                *FAST,
                "model.g_cond=hadamard",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            ["sample", str(run), "--label", "7", "--n", "16", "--out", str(tmp_path / "sevens.png")]
        )
        == 0
    )
    assert (
        main(
            [
                "sample",
                str(run),
                "--grid-by-class",
                "--n",
                "30",
                "--out",
                str(tmp_path / "rows.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "sevens.png").exists() and (tmp_path / "rows.png").exists()
    assert main(["sample", str(run), "--label", "12"]) == 2


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_conditional_recipe_learns(name):
    result = run_check(name)
    assert result.passed, result.summary()
