"""Users' own nets in recipes (``model.net=pkg.module:make``, nets from Python), the consent a
run folder needs before its code is imported, and AdversarialRecipe's ``reuse_fakes``."""

from __future__ import annotations

import itertools
import sys
import textwrap

import pytest
import torch
from torch import nn
from torchvision.utils import save_image

import ganarium
from ganarium.cli import main
from ganarium.config import build_config
from ganarium.data import load_dataset
from ganarium.errors import ConfigError
from ganarium.export import export_run, load_model
from ganarium.models import RECIPES
from ganarium.nets.own import CodeNotTrusted
from ganarium.runs import build_recipe, load_recipe, resume_run, start_run
from ganarium.training.trainer import TrainConfig, Trainer

FAST = [
    "data.size=16",
    "train.steps=2",
    "train.batch_size=16",
    "train.checkpoint_every=2",
    "train.sample_every=0",
    "train.progress=false",
    "train.tensorboard=false",
]

NETS_SOURCE = textwrap.dedent(
    """
    import torch
    from torch import nn

    class G(nn.Module):
        def __init__(self, info, z_dim):
            super().__init__()
            self.z_dim, self.shape = z_dim, tuple(info.shape)
            n = 1
            for s in info.shape:
                n *= s
            self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, n), nn.Tanh())

        def forward(self, z, y=None):
            return self.net(z).view(len(z), *self.shape)

    class D(nn.Module):
        def __init__(self, info, keep_dim=False):
            super().__init__()
            n = 1
            for s in info.shape:
                n *= s
            self.keep_dim = keep_dim
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(n, 32), nn.LeakyReLU(0.2),
                                     nn.Linear(32, 1))

        def forward(self, x, y=None):
            out = self.net(x)
            return out if self.keep_dim else out.squeeze(1)

    def make(info, z_dim=100, **options):
        return {"G": G(info, z_dim), "D": D(info)}

    def make_column_d(info, z_dim=100, **options):
        return {"G": G(info, z_dim), "D": D(info, keep_dim=True)}
    """
)

_names = itertools.count()


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module file in its own folder, put on the import path under a fresh name."""
    name = f"user_nets_{next(_names)}"
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / f"{name}.py").write_text(NETS_SOURCE)
    monkeypatch.syspath_prepend(str(folder))
    yield name
    sys.modules.pop(name, None)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_cli_trains_own_nets_and_loads_them_only_with_consent(tmp_path, user_module, capsys):
    run = tmp_path / "run"
    argv = ["train", "dcgan", "--data", "digits", f"model.net={user_module}:make", *FAST]
    assert main([*argv, "--run-dir", str(run)]) == 0
    recipe = load_recipe(run, trust_code=True)
    assert type(recipe.G).__name__ == "G" and type(recipe.G).__module__ == user_module
    capsys.readouterr()

    sys.modules.pop(user_module)  # from here on, only consent may import it again
    save_image(torch.zeros(1, 16, 16), tmp_path / "digit.png")
    refused = [
        ["train", "--resume", str(run), "train.steps=3"],
        ["sample", str(run), "--out", str(tmp_path / "s.png")],
        ["export", str(run), "--out", str(tmp_path / "exported")],
        ["eval", str(run), "--metrics", "modes", "--n", "16"],
        ["edit", str(run), "--image", str(tmp_path / "digit.png"), "--label", "1"],
    ]
    for cmd in refused:
        assert main(cmd) == 2, cmd
        err = one_line_error(capsys)
        assert f"names code to import: module {user_module}" in err and "--trust-code" in err
    for call in (
        lambda: load_recipe(run),
        lambda: ganarium.load(str(run)),
        lambda: resume_run(str(run)),
        lambda: export_run(str(run), str(tmp_path / "exported2")),
    ):
        with pytest.raises(CodeNotTrusted, match=f"module {user_module}"):
            call()
    assert user_module not in sys.modules

    out = tmp_path / "s.png"
    assert main(["sample", str(run), "--out", str(out), "--trust-code"]) == 0 and out.exists()
    assert main(["train", "--resume", str(run), "train.steps=3", "--trust-code"]) == 0
    assert load_recipe(run, trust_code=True).trained_steps == 3
    exported = tmp_path / "exported"
    assert main(["export", str(run), "--out", str(exported), "--trust-code"]) == 0
    sys.modules.pop(user_module)
    with pytest.raises(CodeNotTrusted):
        ganarium.load(str(exported))
    assert user_module not in sys.modules
    loaded = load_model(str(exported), trust_code=True)
    assert loaded.generate(3).shape == (3, 1, 16, 16)


def test_python_nets_train_and_are_handed_over_again(tmp_path, user_module):
    mod = __import__(user_module)
    info = load_dataset("digits", size=16).info
    nets = mod.make(info, z_dim=100)
    run = tmp_path / "run"
    trainer = start_run("dcgan", "digits", FAST, run_dir=str(run), nets=nets)
    history = trainer.fit()
    assert trainer.recipe.G is nets["G"] and trainer.recipe.D is nets["D"]
    assert all(torch.isfinite(torch.tensor(r["loss/G"])) for r in history if "loss/G" in r)
    assert trainer.config_record["model"]["net"] == "python:G+D"

    with pytest.raises(ConfigError, match="handed over from Python"):
        load_recipe(run)
    fresh = mod.make(info, z_dim=100)
    loaded = load_recipe(run, nets=fresh)
    assert loaded.G is fresh["G"]
    assert torch.equal(fresh["G"].net[0].weight, nets["G"].net[0].weight)


def test_an_importable_python_factory_is_recorded_by_name(tmp_path, user_module):
    mod = __import__(user_module)
    trainer = start_run("gan", "digits", FAST, run_dir=str(tmp_path / "run"), nets=mod.make)
    assert trainer.config_record["model"]["net"] == f"{user_module}:make"
    trainer.fit()
    with pytest.raises(CodeNotTrusted):
        load_recipe(tmp_path / "run")
    assert type(load_recipe(tmp_path / "run", trust_code=True).D).__name__ == "D"


def build(recipe: str, overrides: list[str], size: int = 16):
    cfg = build_config(recipe, "digits", [f"data.size={size}", *overrides])
    return build_recipe(cfg, load_dataset("digits", size=size).info, trust_code=True)


def test_a_pair_that_breaks_the_contract_is_refused_in_one_line(tmp_path, user_module, capsys):
    argv = ["train", "dcgan", "--data", "digits", *FAST, "--run-dir", str(tmp_path / "r")]
    assert main([*argv, f"model.net={user_module}:make_column_d"]) == 2
    assert one_line_error(capsys) == (
        f"ganarium: error: model.net={user_module}:make_column_d: D returns shape (4, 1), "
        "recipe 'dcgan' needs (B,) logits"
    )
    mod = __import__(user_module)
    info = load_dataset("digits", size=16).info
    run = str(tmp_path / "run")
    no_latent = {"G": nets_without_latent(mod, info), "D": mod.D(info)}
    with pytest.raises(ConfigError, match="G has no z_dim, recipe 'dcgan' needs it"):
        start_run("dcgan", "digits", FAST, run_dir=run, nets=no_latent)
    with pytest.raises(ConfigError, match=r"needs \{'G': \.\.\., 'D': \.\.\.\}, got \['G'\]"):
        start_run("dcgan", "digits", FAST, run_dir=run, nets={"G": mod.G(info, 100)})
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="has no 'nope'"):
        build("dcgan", [f"model.net={user_module}:nope"])
    with pytest.raises(ConfigError, match="cannot import no_such_pkg_xyz"):
        build("dcgan", ["model.net=no_such_pkg_xyz.nets:make"])


def nets_without_latent(mod, info) -> nn.Module:
    g = mod.G(info, 100)
    del g.z_dim
    return g


@pytest.mark.parametrize(
    ("recipe", "extra", "message"),
    [
        ("acgan", [], "recipe 'acgan' does not take own nets (it defines its own d_loss, g_loss"),
        ("vae", [], "recipe 'vae' builds its nets from a family, so it does not take own nets"),
        ("sagan", ["model.arch=resnet"], "recipe 'sagan' builds its nets itself"),
    ],
)
def test_recipes_that_do_not_train_adversarial_nets_refuse_them(
    user_module, recipe, extra, message
):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build(recipe, [f"model.net={user_module}:make", *extra], size=32)


def quiet_trainer(recipe, data) -> Trainer:
    cfg = TrainConfig(
        steps=0, batch_size=16, device="cpu", progress=False, tensorboard=False,
        log_every=1, sample_every=0, checkpoint_every=0, ema_decay=0.0,
    )  # fmt: skip
    return Trainer(recipe, data, cfg)


def test_reuse_fakes_runs_g_once_and_leaves_the_d_step_alone():
    data = load_dataset("digits", size=16)
    trainers, g_calls = {}, {}
    for reuse in (False, True):
        torch.manual_seed(0)
        recipe = RECIPES.get("dcgan")(data.info, g_width=8, d_width=8, z_dim=8, reuse_fakes=reuse)
        calls = g_calls.setdefault(reuse, [])
        recipe.G.register_forward_hook(lambda *a, calls=calls: calls.append(1))
        trainer = quiet_trainer(recipe, data)
        trainer.cfg.steps = 1
        history = trainer.fit()
        assert all(torch.isfinite(torch.tensor(v)) for k, v in history[-1].items() if "/" in k)
        trainers[reuse] = trainer
    assert (len(g_calls[False]), len(g_calls[True])) == (2, 1)  # G forwards in one step
    default, reuse = (trainers[k].recipe for k in (False, True))
    # the D phase is the same computation; only G's step sees other fakes (the D phase's)
    for a, b in zip(default.D.parameters(), reuse.D.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not all(
        torch.equal(a, b) for a, b in zip(default.G.parameters(), reuse.G.parameters(), strict=True)
    )
    # one real batch per step instead of two (G's batch is the D phase's)
    assert (trainers[False].stream.drawn, trainers[True].stream.drawn) == (2, 1)


def test_reuse_fakes_trains_g_on_the_d_phases_fakes():
    """G's gradient under reuse_fakes is that of a fresh forward of the D phase's z through the
    D that was just stepped."""
    data = load_dataset("digits", size=16)
    torch.manual_seed(0)
    recipe = RECIPES.get("dcgan")(data.info, g_width=8, d_width=8, z_dim=8, reuse_fakes=True)
    zs: list[torch.Tensor] = []
    recipe.G.register_forward_hook(lambda m, args, out: zs.append(args[0].clone()))
    trainer = quiet_trainer(recipe, data)
    trainer.cfg.steps = 1
    g_before = [p.detach().clone() for p in recipe.G.parameters()]
    grads: list[torch.Tensor] = []
    trainer.optimizers["G"].register_step_pre_hook(
        lambda opt, a, k: grads.extend(p.grad.clone() for p in recipe.G.parameters())
    )
    trainer.fit()
    assert len(zs) == 1 and grads
    recipe.train()
    for p, before in zip(recipe.G.parameters(), g_before, strict=True):
        p.data.copy_(before)
        p.grad = None
    for p in recipe.D.parameters():
        p.requires_grad_(False)
    recipe.adv.g(recipe.D(recipe.G(zs[0])), None).backward()
    for p, reused in zip(recipe.G.parameters(), grads, strict=True):
        torch.testing.assert_close(p.grad, reused)


@pytest.mark.parametrize(
    ("recipe", "extra", "message"),
    [
        ("dcgan", {"n_critic": 2}, "model.reuse_fakes needs n_critic=1"),
        ("wgan", {}, "model.reuse_fakes needs n_critic=1"),
        ("acgan", {}, "recipe 'acgan' draws its fakes itself"),
    ],
)
def test_reuse_fakes_is_refused_where_the_maths_needs_fresh_fakes(recipe, extra, message):
    info = load_dataset("digits", size=16).info
    with pytest.raises(ConfigError, match=message):
        RECIPES.get(recipe)(info, reuse_fakes=True, **extra)
