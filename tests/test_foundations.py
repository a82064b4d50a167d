"""Foundations for scale: resuming a run killed before its first checkpoint, images counted as D
sees them, run length in kimg or epochs, an EMA half-life in images, ``python -m ganarium``
and the golden-trajectory tool."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganarium.checkpoint import load_checkpoint
from ganarium.checks import check_trainer, learning_check
from ganarium.models import RECIPES
from ganarium.rundir import RunDir
from ganarium.runs import resume_run, start_run
from ganarium.training.trainer import Callback

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TINY = [
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "model.z_dim=8",
    "train.batch_size=16",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.log_every=5",
]


def _ganarium(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ganarium", *args],
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _same_weights(a: Path, b: Path) -> None:
    sa, sb = (
        load_checkpoint(a / "checkpoints" / "latest.pt"),
        load_checkpoint(b / "checkpoints" / "latest.pt"),
    )
    assert sa["step"] == sb["step"]
    differ = [k for k in sa["model"] if not torch.equal(sa["model"][k], sb["model"][k])]
    assert not differ, f"{len(differ)} tensors differ: {differ[:3]}"
    assert [r["step"] for r in RunDir(a).read_metrics()] == [
        r["step"] for r in RunDir(b).read_metrics()
    ]


# -- resume before the first checkpoint ------------------------------------------------------
def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_0(tmp_path):
    """SIGKILL at step 7, before the first checkpoint at 20: --resume starts it again from step
    0 with its stored config (saying so in one line) and it ends bit-identical."""
    args = ["dcgan", "--data", "digits", *TINY, "train.steps=30", "train.checkpoint_every=20"]
    whole, victim = tmp_path / "whole", tmp_path / "victim"
    p = _ganarium("train", *args, "--run-dir", str(whole))
    assert p.wait(timeout=300) == 0, p.stderr.read()

    trainer = start_run(args[0], "digits", args[3:], run_dir=str(victim))
    with pytest.raises(_Died):  # dies at step 7 with nothing saved, as under SIGKILL
        trainer.fit(callbacks=[_DieAt(7)])
    trainer.release_lock()
    assert not RunDir(victim).has_checkpoint()
    assert RunDir(victim).read_metrics()  # it had logged step 5
    p = _ganarium("train", "--resume", str(victim))
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    lines = [line for line in err.splitlines() if "first checkpoint" in line]
    assert len(lines) == 1 and "from step 0" in lines[0], err
    _same_weights(whole, victim)


class _Died(Exception):
    pass


class _DieAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step(self, trainer) -> None:
        if trainer.step == self.step:
            raise _Died


def test_sigkill_at_random_moments_then_resume_ends_bit_identical(tmp_path):
    """A job requeued after SIGKILL at random moments (while starting, before and after the
    first checkpoint) with ``--resume`` ends as the uninterrupted run; a kill before the run
    folder was claimed leaves nothing to resume, and the job starts it again. The moments are
    drawn as fractions (at most half) of the uninterrupted run's wall time, so any CPU gets kills."""
    args = ["dcgan", "--data", "digits", *TINY, "train.steps=300", "train.checkpoint_every=100"]
    whole, victim = tmp_path / "whole", tmp_path / "victim"
    t0 = time.perf_counter()
    p = _ganarium("train", *args, "--run-dir", str(whole))
    assert p.wait(timeout=300) == 0, p.stderr.read()
    wall = time.perf_counter() - t0

    rng = random.Random(23)
    kills = []
    for _attempt in range(8):
        started = (victim / "config.yaml").exists()
        cmd = ["train", "--resume", str(victim)] if started else ["train", *args]
        p = _ganarium(*cmd, *([] if started else ["--run-dir", str(victim)]))
        if len(kills) < 3:
            try:
                p.wait(timeout=rng.uniform(0.05, 0.5) * wall)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills.append(RunDir(victim).has_checkpoint())
                continue
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        break
    assert kills, "the first run is killed within its uninterrupted wall time"
    _same_weights(whole, victim)


def test_resume_of_a_folder_that_is_no_run_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    p = _ganarium("train", "--resume", str(tmp_path / "empty"))
    _, err = p.communicate(timeout=120)
    assert p.returncode == 2 and "no config.yaml" in err and len(err.strip().splitlines()) == 1


def test_a_start_killed_while_claiming_its_folder_can_start_again(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".config.abc123.tmp").write_text("partial")  # what a kill inside _claim leaves
    trainer = start_run("dcgan", "digits", [*TINY, "train.steps=2"], run_dir=str(run))
    trainer.fit()
    assert (run / "checkpoints" / "latest.pt").exists()


# -- images counted as D sees them ----------------------------------------------------------
# real images per step for one recipe of every family: batches D is shown (or, with no D, the
# model), whatever else each phase draws
IMAGES_PER_STEP = {
    "dcgan": 1,  # D; G's batch gives its size only (it drew 2 before)
    "wgan-gp": 5,  # five critic steps (6 before)
    "gman": 5,  # five discriminators (its check's N), each its own batch
    "triplegan": 2,  # D and the classifier's pseudo-labelled pairs, which D scores
    "cyclegan": 1,  # G draws the pairs, D reuses them
    "lapgan": 1,  # one batch for every level
    "stackgan": 1,  # the captioned batch every stage reuses
    "vae": 1,  # no D: the images the model trains on
    "bigan": 2,  # D, and the (x, E(x)) pairs D scores in the G / E phase
    "infogan": 1,
    "began": 1,
    "ssgan": 2,  # feature matching shows D real images in the G phase too
    "pix2pix": 1,
    "progan": 1,
}


@pytest.mark.parametrize("name", sorted(IMAGES_PER_STEP))
def test_images_seen_counts_the_real_images_shown_to_d(name):
    trainer = check_trainer(name, steps=3, train_options={"batch_size": 4})[0]
    repeat = {ph.name: ph.repeat for ph in trainer.phases}
    expected = IMAGES_PER_STEP[name]
    if name in ("wgan-gp", "triplegan"):
        assert repeat["D"] == expected - (name == "triplegan")
    trainer.fit()
    assert trainer.images_seen == 3 * 4 * expected
    assert trainer.real_batches_per_step() == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", RECIPES.names())
def test_images_seen_equals_the_fresh_real_batches_every_recipe_draws(name):
    """For every recipe, the count equals the fresh batches its real phases draw (repeats and
    intervals included), never a batch a phase reuses."""
    trainer = check_trainer(name, steps=2, train_options={"batch_size": 4})[0]
    drawn = []
    for i, ph in enumerate(trainer.phases):
        loss = ph.loss

        def spy(batch, ctx, loss=loss, ph=ph):
            if ph.batch is None:  # every call of such a phase drew a fresh batch
                drawn.append(ph.real)
            return loss(batch, ctx)

        trainer.phases[i] = type(ph)(**{**ph.__dict__, "loss": spy})
    trainer.fit()
    real_draws = sum(drawn)
    assert trainer.images_seen == real_draws * 4
    assert real_draws > 0, f"{name}: no phase counts as showing real images"


def test_images_seen_survives_a_resume(tmp_path):
    trainer = start_run(
        "wgan-gp",
        "digits",
        [*TINY, "train.steps=3", "train.checkpoint_every=3"],
        run_dir=str(tmp_path / "r"),
    )
    trainer.fit()
    assert trainer.images_seen == 3 * 5 * 16
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")["images_seen"] == 240
    again = resume_run(str(tmp_path / "r"), overrides=["train.steps=4"])
    assert again.images_seen == 240
    again.fit()
    assert again.images_seen == 4 * 5 * 16


# -- run length in kimg / epochs, EMA half-life in images ------------------------------------
def test_kimg_and_epochs_set_the_number_of_steps():
    kimg = check_trainer("wgan-gp", train_options={"kimg": 2.0, "batch_size": 40})[0]
    assert kimg.cfg.steps == 10  # 2000 images / (5 critic batches x 40)
    epochs = check_trainer("dcgan", train_options={"epochs": 2.0, "batch_size": 50})[0]
    n = len(epochs.stream.dataset)
    assert epochs.cfg.steps == -(-2 * n // 50)


def test_kimg_and_epochs_together_are_refused():
    from ganarium.errors import ConfigError

    with pytest.raises(ConfigError, match="both set the run's length"):
        check_trainer("dcgan", train_options={"kimg": 1.0, "epochs": 1.0})


def test_ema_half_life_in_images():
    trainer = check_trainer("dcgan", train_options={"ema_kimg": 10.0, "batch_size": 32})[0]
    assert trainer.recipe.ema
    beta = trainer.ema_decay_at(100, 10_000)
    assert beta == pytest.approx(0.5 ** (32 / 10_000))
    assert beta ** (10_000 / 32) == pytest.approx(0.5)  # half the weight after 10 kimg
    ramped = check_trainer(
        "dcgan", train_options={"ema_kimg": 10.0, "ema_rampup": 0.05, "batch_size": 32}
    )[0]
    assert ramped.ema_decay_at(10, 3200) == pytest.approx(0.5 ** (32 / 160))  # 0.05 x 3200
    assert ramped.ema_decay_at(10, 10**7) == pytest.approx(beta)


# -- python -m ganarium ----------------------------------------------------------------------
def test_python_dash_m_ganarium_runs_the_cli():
    p = subprocess.run(
        [sys.executable, "-m", "ganarium", "info", "dcgan"], env=ENV, capture_output=True, text=True
    )
    assert p.returncode == 0 and "lr_g" in p.stdout
    p = subprocess.run(
        [sys.executable, "-m", "ganarium", "nonsense"], env=ENV, capture_output=True, text=True
    )
    assert p.returncode == 2


# -- golden trajectories ---------------------------------------------------------------------
def test_golden_tool_records_checks_and_reports_a_moved_hash(tmp_path):
    golden = tmp_path / "golden.json"
    script = [sys.executable, str(ROOT / "scripts" / "golden.py")]

    def run(*a):
        return subprocess.run(
            [*script, *a, "--file", str(golden), "--jobs", "1"],
            env=ENV,
            capture_output=True,
            text=True,
        )

    assert run("record", "gan").returncode == 0
    record = json.loads(golden.read_text())
    assert set(record["recipes"]) == {"gan"} and record["machine"]["torch"] == torch.__version__
    same = run("check", "gan")
    assert same.returncode == 0 and "1 of 1 recipes unchanged" in same.stdout
    record["recipes"]["gan"] = "0" * 20
    golden.write_text(json.dumps(record))
    moved = run("check", "gan")
    assert moved.returncode == 1 and "MOVED gan" in moved.stdout
    record["machine"]["cpu"] = "another CPU"
    golden.write_text(json.dumps(record))
    assert run("check", "gan").returncode == 2  # hashes are per CPU: refuse to compare


def test_the_golden_file_covers_every_recipe():
    record = json.loads((ROOT / "scripts" / "golden.json").read_text())
    assert set(record["recipes"]) == set(RECIPES.names())
    assert not [n for n, h in record["recipes"].items() if h.startswith("error")]
    assert learning_check("dcgan")  # the hashes are of the checks' set-ups


def test_step_lr_schedule_drops_once_at_its_start():
    trainer = check_trainer(
        "dcgan",
        steps=10,
        train_options={"lr_schedule": "step", "lr_decay_start": 0.5, "lr_step_factor": 0.1},
    )[0]
    lr0 = trainer.optimizers["G"].param_groups[0]["lr"]
    factors = [trainer.lr_schedule.factor(s) for s in range(10)]
    assert factors == [1.0] * 5 + [0.1] * 5
    trainer.fit()
    assert trainer.optimizers["G"].param_groups[0]["lr"] == pytest.approx(lr0 * 0.1)


def test_ema_without_warmup_uses_the_decay_from_its_start():
    trainer = check_trainer(
        "dcgan", train_options={"ema_decay": 0.9999, "ema_start": 20, "ema_warmup": False}
    )[0]
    assert trainer.ema_decay_at(19) == 0.0  # a copy before ema_start
    assert trainer.ema_decay_at(20) == 0.9999
    warm = check_trainer("dcgan", train_options={"ema_decay": 0.9999, "ema_start": 20})[0]
    assert warm.ema_decay_at(20) == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
