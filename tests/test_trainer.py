import dataclasses
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganarium.checkpoint import load_checkpoint, save_checkpoint
from ganarium.errors import CheckpointError, ConfigError, DivergenceError
from ganarium.rundir import RunDir
from ganarium.runs import load_recipe, resume_run, start_run

TINY_DCGAN = [
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "model.z_dim=8",
    "train.batch_size=16",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.log_every=10",
]


def _cli(*args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ganarium.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _run_to_end(*args: str) -> None:
    p = _cli(*args)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err


KILLER = """
import os, signal, sys
import torch
torch.set_num_threads(1)
from ganarium.runs import resume_run, start_run
from ganarium.training.trainer import Callback

class KillAt(Callback):  # SIGKILL between two steps, as a scheduler would
    def __init__(self, step):
        self.at = step
    def on_step(self, trainer):
        if trainer.step == self.at:
            os.kill(os.getpid(), signal.SIGKILL)

at, run, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
if args:
    trainer = start_run(args[0], args[1], args[2:], run_dir=run)
else:
    trainer = resume_run(run)
trainer.fit(callbacks=[KillAt(at)] if at > 0 else [])
"""


def _killed_at(step: int, run: Path, *start: str) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    p = subprocess.run(
        [sys.executable, "-c", KILLER, str(step), str(run), *start],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return p.returncode


def _digit_pngs(root: Path, n: int = 96) -> Path:
    from PIL import Image

    from ganarium.data import load_dataset

    root.mkdir()
    x = load_dataset("digits", size=16).tensors["image"][:n]
    for i, img in enumerate(((x[:, 0] + 1) * 127.5).round().to(torch.uint8)):
        Image.fromarray(img.numpy(), "L").save(root / f"{i:03d}.png")
    return root


def _kill_cases(tmp_path: Path) -> dict[str, list[str]]:
    folder = f"data.root={_digit_pngs(tmp_path / 'png')}"
    return {
        "in-memory digits": ["dcgan", "digits", *TINY_DCGAN],
        "image folder (DataLoader)": ["dcgan", "folder", folder, "data.channels=1", *TINY_DCGAN],
        "extra state (ssgan)": [
            "ssgan",
            "digits",
            *TINY_DCGAN,
            "data.labels_per_class=10",
            "model.historical_weight=0.001",
        ],
    }


@pytest.mark.parametrize(
    "case", ["in-memory digits", "image folder (DataLoader)", "extra state (ssgan)"]
)
def test_sigkill_then_resume_gives_identical_parameters(tmp_path, case):
    """Killed with SIGKILL three times between checkpoints and resumed each time, a run ends with
    exactly the parameters (and logs) of the uninterrupted run."""
    start = _kill_cases(tmp_path)[case] + ["train.steps=60", "train.checkpoint_every=10"]
    assert _killed_at(0, tmp_path / "whole", *start) == 0
    victim = tmp_path / "killed"
    latest = victim / "checkpoints" / "latest.pt"
    assert _killed_at(17, victim, *start) == -signal.SIGKILL
    assert load_checkpoint(latest)["step"] == 10
    assert _killed_at(33, victim) == -signal.SIGKILL  # resumed at 10, killed after 30
    assert load_checkpoint(latest)["step"] == 30
    assert _killed_at(41, victim) == -signal.SIGKILL
    assert load_checkpoint(latest)["step"] == 40
    assert _killed_at(0, victim) == 0

    a = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    b = load_checkpoint(victim / "checkpoints" / "latest.pt")
    assert a["step"] == b["step"] == 60
    assert a["model"].keys() == b["model"].keys()
    differ = [k for k in a["model"] if not torch.equal(a["model"][k], b["model"][k])]
    assert not differ, f"{len(differ)} of {len(a['model'])} tensors differ: {differ[:3]}"
    logged = RunDir(victim).read_metrics()
    assert [r["step"] for r in logged] == [
        r["step"] for r in RunDir(tmp_path / "whole").read_metrics()
    ]


def test_divergence_stops_with_step_and_keeps_last_checkpoint(tmp_path):
    trainer = start_run(
        "dcgan",
        "digits",
        TINY_DCGAN + ["train.steps=4", "train.checkpoint_every=2"],
        run_dir=str(tmp_path / "r"),
    )
    trainer.cfg.steps = 2
    trainer.fit()
    good = load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")
    d_loss = trainer.phases[0].loss
    bad = lambda batch, ctx: (d_loss(batch, ctx)[0] * float("nan"), {})  # noqa: E731
    trainer.phases[0] = dataclasses.replace(trainer.phases[0], loss=bad)
    trainer.cfg.steps = 4
    with pytest.raises(DivergenceError, match="step 2: the D loss is nan"):
        trainer.fit()
    after = load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")
    assert after["step"] == good["step"] == 2
    assert all(torch.equal(after["model"][k], good["model"][k]) for k in good["model"])


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['EVIL_MARKER']}",))


def test_crafted_pickle_is_refused_without_running_code(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format_version": 1, "x": _Evil()}, f)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_checkpoint(path)
    assert not marker.exists()


def test_atomic_writes_get_the_permissions_of_an_ordinary_file(tmp_path):
    """mkstemp's temp files are 0600: a checkpoint, report or figure written through it must
    still be readable by the user's group and others, as open() would make it."""
    from ganarium.checkpoint import atomic_write_text

    old = os.umask(0o022)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        atomic_write_text(tmp_path / "atomic.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "atomic.txt").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644


def test_truncated_checkpoint_and_foreign_recipe(tmp_path):
    trainer = start_run(
        "gan",
        "ring8",
        [
            "train.steps=2",
            "train.checkpoint_every=2",
            "train.progress=false",
            "train.tensorboard=false",
        ],
        run_dir=str(tmp_path / "g"),
    )
    trainer.fit()
    latest = tmp_path / "g" / "checkpoints" / "latest.pt"
    state = load_checkpoint(latest)
    state["recipe"] = "lsgan"
    save_checkpoint(latest, state)
    with pytest.raises(CheckpointError, match="from recipe 'lsgan'"):
        load_recipe(tmp_path / "g")
    with pytest.raises(CheckpointError, match="from recipe 'lsgan'"):
        resume_run(str(tmp_path / "g"))
    latest.write_bytes(latest.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="unreadable or truncated"):
        load_recipe(tmp_path / "g")


def test_existing_run_is_not_overwritten(tmp_path):
    args = [
        "train.steps=2",
        "train.checkpoint_every=2",
        "train.progress=false",
        "train.tensorboard=false",
    ]
    start_run("gan", "ring8", args, run_dir=str(tmp_path / "g")).fit()
    before = (tmp_path / "g" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match="already holds a run"):
        start_run("lsgan", "ring8", args, run_dir=str(tmp_path / "g"))
    assert (tmp_path / "g" / "config.yaml").read_text() == before


def test_bad_input_leaves_no_run_directory(tmp_path):
    with pytest.raises(Exception, match="batch_size"):
        start_run("gan", "ring8", ["train.batch_size=100000"], run_dir=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


def test_ema_tracks_generator_and_is_used_for_sampling(tmp_path):
    t = start_run(
        "gan",
        "ring8",
        [
            "train.steps=30",
            "train.ema_decay=0.9",
            "train.progress=false",
            "train.tensorboard=false",
            "train.checkpoint_every=30",
        ],
        run_dir=str(tmp_path / "e"),
    )
    t.fit()
    g, ema = t.recipe.G, t.recipe.ema["G"]
    diff = sum((a - b).abs().sum() for a, b in zip(g.parameters(), ema.parameters()))
    assert 0 < diff and t.recipe.net_for_sampling() is ema
    loaded = load_recipe(tmp_path / "e")
    assert "G" in loaded.ema


def test_resume_accepts_harmless_changes_and_gives_the_same_weights(tmp_path):
    args = [
        "train.steps=4",
        "train.checkpoint_every=2",
        "train.progress=false",
        "train.tensorboard=false",
    ]
    start_run("gan", "ring8", [*args, "train.steps=8"], run_dir=str(tmp_path / "whole")).fit()
    start_run("gan", "ring8", args, run_dir=str(tmp_path / "g")).fit()
    harmless = ["steps=8", "train.log_every=3", "train.progress=true", "train.device=cpu"]
    harmless += ["train.num_workers=2", "train.sample_every=1", "train.checkpoint_every=3"]
    t = resume_run(str(tmp_path / "g"), overrides=harmless)
    assert t.step == 4 and t.cfg.log_every == 3
    t.fit()
    a = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    b = load_checkpoint(tmp_path / "g" / "checkpoints" / "latest.pt")
    assert a["step"] == b["step"] == 8
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    before = (tmp_path / "g" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match=r"model.lr_g \(changes the run\), train.steps \(harm"):
        resume_run(str(tmp_path / "g"), overrides=["model.lr_g=1", "train.steps=9"])
    with pytest.raises(ConfigError, match="train.batch_size .changes the run"):
        resume_run(str(tmp_path / "g"), overrides=["train.batch_size=3"])
    with pytest.raises(ConfigError, match="below the checkpoint's step 8"):
        resume_run(str(tmp_path / "g"), overrides=["train.steps=5"])
    assert (tmp_path / "g" / "config.yaml").read_text() == before  # refusals change nothing


def test_run_directory_layout(tmp_path):
    t = start_run(
        "dcgan",
        "digits",
        TINY_DCGAN
        + [
            "train.steps=4",
            "train.checkpoint_every=2",
            "train.sample_every=2",
            "train.tensorboard=true",
        ],
        run_dir=str(tmp_path / "d"),
    )
    t.fit()
    run = Path(tmp_path / "d")
    assert (run / "config.yaml").exists() and (run / "metrics.jsonl").exists()
    assert (run / "checkpoints" / "latest.pt").exists() and (
        run / "samples" / "step_000004.png"
    ).exists()
    assert any((run / "tb").iterdir())
    assert not list((run / "checkpoints").glob("*.tmp")), "no temp files left behind"


def test_train_threads_sets_torch_threads_and_a_busy_cpu_gets_a_warning(
    tmp_path, monkeypatch, capsys
):
    import ganarium.training.threads as threads_module
    from ganarium.cli import main

    before = torch.get_num_threads()
    try:
        argv = ["train", "gan", "--data", "ring8", "train.steps=1", "train.progress=false"]
        assert main([*argv, "train.threads=1", "--run-dir", str(tmp_path / "one")]) == 0
        assert torch.get_num_threads() == 1
        assert "CPU is busy" not in capsys.readouterr().err
        # torch's default on a 4-core CPU that 3 other processes keep busy: a one-line warning
        torch.set_num_threads(2)
        monkeypatch.setattr(threads_module.os, "cpu_count", lambda: 4)
        monkeypatch.setattr(threads_module, "other_busy_processes", lambda: 3.0)
        threads_module.set_cpu_threads(0, torch.device("cpu"))
        err = capsys.readouterr().err
        assert "CPU is busy (load 3.0 on 4 cores)" in err and "train.threads=1" in err
        monkeypatch.setattr(threads_module, "other_busy_processes", lambda: 0.0)  # idle: silent
        threads_module.set_cpu_threads(0, torch.device("cpu"))
        assert "CPU is busy" not in capsys.readouterr().err
        assert torch.get_num_threads() == 2  # the default is left alone
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ConfigError, match="train.threads=-1"):
        start_run("gan", "ring8", ["train.threads=-1"], run_dir=str(tmp_path / "bad"))
