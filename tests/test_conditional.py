"""Conditional recipes (issue 3, first part): label-aware sampling, the no-labels error, and
conditional batch norm. Their learning checks run in test_learning.py."""

import pytest
import torch

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


def test_conditional_batch_norm_starts_as_batch_norm_and_learns_per_class():
    from torch import nn

    from ganarium.nn.cond_bn import ConditionalBatchNorm2d

    x, y = torch.randn(6, 4, 5, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    cbn = ConditionalBatchNorm2d(4, num_classes=3)
    plain = nn.BatchNorm2d(4, affine=False)
    assert torch.allclose(cbn(x, y), plain(x), atol=1e-6)  # gains centred at 1, biases at 0
    cbn(x, y).pow(2).mul(torch.arange(4.0)[None, :, None, None]).sum().backward()
    assert cbn.gain.weight.grad.abs().sum() > 0
    vec = ConditionalBatchNorm2d(4, cond_dim=7)
    assert vec(x, torch.randn(6, 7)).shape == x.shape
    with pytest.raises(ValueError, match="exactly one"):
        ConditionalBatchNorm2d(4)


def test_resnet_generator_with_conditional_bn_uses_labels():
    from ganarium.data import load_dataset
    from ganarium.nets.resnet import ResNetGenerator

    g = ResNetGenerator(load_dataset("digits", size=16).info, z_dim=8, width=8, cond="cbn")
    with torch.no_grad():
        for block in g.blocks:
            block.norm1.gain.weight.normal_()
    z = torch.randn(1, 8).repeat(2, 1)
    g.eval()
    out = g(z, torch.tensor([0, 5]))
    assert out.shape == (2, 1, 16, 16) and not torch.allclose(out[0], out[1])
