import dataclasses
import os
import pickle
import signal
import subprocess
import sys
import time
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


def test_sigkill_then_resume_gives_identical_parameters(tmp_path):
    steps = 300
    common = [
        "dcgan",
        "--data",
        "digits",
        *TINY_DCGAN,
        f"train.steps={steps}",
        "train.checkpoint_every=20",
    ]
    _run_to_end("train", *common, "--run-dir", str(tmp_path / "whole"))

    victim = tmp_path / "killed"
    p = _cli("train", *common, "--run-dir", str(victim))
    latest = victim / "checkpoints" / "latest.pt"
    deadline = time.time() + 240
    while not latest.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    killed_at = load_checkpoint(latest)["step"]
    assert 0 < killed_at < steps, "the kill must land mid-run"
    _run_to_end("train", "--resume", str(victim))

    a = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    b = load_checkpoint(latest)
    assert a["step"] == b["step"] == steps
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    steps_logged = [r["step"] for r in RunDir(victim).read_metrics()]
    assert steps_logged == sorted(set(steps_logged)), "resume must not duplicate metric records"


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
    bad = lambda batch: (torch.tensor(float("nan")), {})  # noqa: E731
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


def test_resume_can_extend_steps(tmp_path):
    args = [
        "train.steps=4",
        "train.checkpoint_every=2",
        "train.progress=false",
        "train.tensorboard=false",
    ]
    start_run("gan", "ring8", args, run_dir=str(tmp_path / "g")).fit()
    t = resume_run(str(tmp_path / "g"), overrides=["steps=6"])
    assert t.step == 4
    t.fit()
    assert load_checkpoint(tmp_path / "g" / "checkpoints" / "latest.pt")["step"] == 6
    with pytest.raises(ConfigError, match="only train.steps"):
        resume_run(str(tmp_path / "g"), overrides=["model.lr_g=1"])


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
