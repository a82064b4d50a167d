"""Data-parallel training under torchrun (``ganarium.training.strategy``), on this CPU with gloo: 2
processes stay identical, each sees its own slice of the global batch, 2 ranks compute what one
process with ``train.accumulate=2`` computes, a divergence on one rank stops both with one line,
and a 2-rank run killed with SIGKILL resumes on 1 rank. The CUDA/NCCL path is the same code with
another backend and is not exercised here (no GPU in CI)."""

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganarium.checks import check_trainer
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.training.trainer import TrainConfig, check_batch_split

ROOT = Path(__file__).resolve().parents[1]
REPRESENTATIVE = [
    "dcgan",
    "wgan-gp",
    "stylegan2",
    "progan",
    "cyclegan",
    "gman",
    "triplegan",
    "began",
]
TINY = {"batch_size": 16, "log_every": 1}
NOLOGNORM = {"g_norm": "layer"}  # no batch statistics: 2 ranks and 1 process compute one thing
COMPARE_STEPS = 20

# Runs on every rank under torchrun; writes OUT/rank{RANK}.pt with what the tests compare.
WORKER = r'''
import hashlib, os, sys
import torch
torch.set_num_threads(1)
from ganarium.checks import check_trainer
from ganarium.errors import ConfigError, DivergenceError
from ganarium.training.trainer import Callback

rank = int(os.environ["RANK"])
out, tasks = sys.argv[1], sys.argv[2].split(",")
recipes = sys.argv[3].split(",") if len(sys.argv) > 3 else []
TINY = {"batch_size": 16, "log_every": 1}


def digest(value):
    h = hashlib.sha256()
    def walk(v):
        if isinstance(v, torch.Tensor):
            t = v.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(v, dict):
            for k in sorted(v, key=str):
                h.update(str(k).encode()); walk(v[k])
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        else:
            h.update(repr(v).encode())
    walk(value)
    return h.hexdigest()[:16]


class Recorded:
    """The Trainer's batch stream, remembering a digest of each batch it yields."""
    def __init__(self, stream):
        self.stream, self.seen = stream, []
    def __getattr__(self, name):
        return getattr(self.stream, name)
    def draw(self, images=True):
        batch = self.stream.draw(images)
        if images:  # a draw without images (a G phase's) holds only labels and a stand-in
            self.seen.append(digest(batch))
        return batch
    def __next__(self):
        return self.draw()


class ParamsAt(Callback):
    def __init__(self, step):
        self.step, self.params = step, None
    def on_step(self, trainer):
        if trainer.step == self.step:  # before fit's closing sync of buffers and extra state
            self.params = {k: digest(p) for k, p in trainer.recipe.named_parameters()}


res = {}
if "identical" in tasks:
    for name in recipes:
        print("recipe", name, file=sys.stderr, flush=True)
        trainer = check_trainer(name, steps=3, train_options=TINY)[0]
        trainer.stream = Recorded(trainer.stream)
        at = ParamsAt(3)
        trainer.fit(callbacks=[at])
        res[name] = {
            "params": at.params,
            "buffers": {k: digest(b) for k, b in trainer.recipe.named_buffers()},
            "extra": digest(trainer.recipe.extra_state()),
            "batches": trainer.stream.seen,
            "logged": trainer.history[-1],
        }
if "compare" in tasks:
    trainer = check_trainer(
        "wgan-gp", steps=int(sys.argv[4]), model={"g_norm": "layer"}, train_options=TINY
    )[0]
    trainer.fit()
    res["compare"] = {k: v.clone() for k, v in trainer.recipe.state_dict().items()}
if "divergence" in tasks:
    trainer = check_trainer("wgan-gp", steps=6, train_options={"batch_size": 16, "log_every": 3})[0]
    phase = trainer.phases[0]
    loss_of = phase.loss
    def poisoned(batch, ctx):
        loss, parts = loss_of(batch, ctx)
        return (loss * float("nan") if rank == 1 and ctx.step == 1 else loss), parts
    phase.loss = poisoned
    try:
        trainer.fit()
        res["divergence"] = f"no error (step {trainer.step})"
    except DivergenceError as e:
        res["divergence"] = f"{str(e)} | at step {trainer.step}"
if "halving" in tasks:  # BEGAN's lr halving judges M_global averaged over the ranks
    trainer = check_trainer(
        "began", steps=12, model={"lr_halve_patience": 1, "lr_halve_window": 1},
        train_options=TINY,
    )[0]
    # rank 0 alone would see its measure fall every step, rank 1 alone rise: only a judgement
    # of the mean over ranks (which cancels the two) makes them halve at the same steps
    stall, add = trainer.recipe.stall, trainer.recipe.stall.add
    sign = -1.0 if rank == 0 else 1.0
    stall.add = lambda value, step: add(value + sign * 10.0 * step, step)
    factors = []
    class Factor(Callback):
        def on_step(self, trainer):
            factors.append(trainer.recipe.stall.factor)
    trainer.fit(callbacks=[Factor()])
    res["halving"] = {"factors": factors, "params": digest(dict(trainer.recipe.named_parameters()))}
if "indivisible" in tasks:
    try:
        check_trainer("dcgan", steps=1, train_options={"batch_size": 18, "accumulate": 2})
        res["indivisible"] = "accepted"
    except ConfigError as e:
        res["indivisible"] = str(e)
torch.save(res, os.path.join(out, f"rank{rank}.pt"))
'''

# Starts (or resumes) a run on every rank; rank 0 SIGKILLs itself after step KILL (0: never).
RUNNER = r"""
import os, signal, sys
import torch
torch.set_num_threads(1)
from ganarium.runs import resume_run, start_run
from ganarium.training.trainer import Callback

class KillAt(Callback):
    def __init__(self, step):
        self.at = step
    def on_step(self, trainer):
        if trainer.step == self.at and int(os.environ.get("RANK", "0")) == 0:
            os.kill(os.getpid(), signal.SIGKILL)

kill, run, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
if args and args[0] == "--resume":
    trainer = resume_run(run, overrides=args[1:])
else:
    trainer = start_run(args[0], args[1], args[2:], run_dir=run)
trainer.fit(callbacks=[KillAt(kill)] if kill else [])
"""

RUN_ITEMS = [
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "model.z_dim=8",
    "model.g_norm=layer",
    "train.batch_size=16",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.log_every=1",
    "train.checkpoint_every=2",
    "train.steps=6",
    "train.device=cpu",
]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def torchrun(script: str, *args: str, nproc: int = 2, timeout: int = 240):
    """Run ``script`` with torchrun on ``nproc`` processes on this machine."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += [f"--nproc_per_node={nproc}", "--no-python", sys.executable, "-c", script, *args]
    if nproc == 1:
        cmd = [sys.executable, "-c", script, *args]
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max(
        (x.float() - b[k].float()).abs().max().item() for k, x in a.items() if x.is_floating_point()
    )


def _relative_distance(a, b, origin) -> float:
    """|a - b| / |b - origin| over every floating parameter and buffer."""
    keys = [k for k, v in a.items() if v.is_floating_point()]
    num = sum(((a[k] - b[k]).double() ** 2).sum() for k in keys) ** 0.5
    den = sum(((b[k] - origin[k]).double() ** 2).sum() for k in keys) ** 0.5
    return float(num / den)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> list[dict]:
    """One 2-process gloo group for the representative set, the comparison run, the divergence
    and the indivisible batch (start-up paid once)."""
    out = tmp_path_factory.mktemp("ddp")
    tasks = "identical,compare,divergence,halving,indivisible"
    p = torchrun(WORKER, str(out), tasks, ",".join(REPRESENTATIVE), str(COMPARE_STEPS))
    assert p.returncode == 0, p.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


@functools.cache
def _single(steps: int, accumulate: int = 1) -> dict[str, torch.Tensor]:
    """wgan-gp (layer norm in G) after ``steps`` on this one process."""
    options = {**TINY, "accumulate": accumulate}
    trainer = check_trainer("wgan-gp", steps=steps, model=NOLOGNORM, train_options=options)[0]
    trainer.fit()
    return {k: v.clone() for k, v in trainer.recipe.state_dict().items()}


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_two_ranks_stay_identical_and_see_different_batches(two_ranks, name):
    r0, r1 = two_ranks[0][name], two_ranks[1][name]
    assert r0["params"] == r1["params"], "parameters differ across ranks after 3 steps"
    # buffers (batch-norm statistics included) and extra state after fit's closing sync
    assert r0["buffers"] == r1["buffers"] and r0["extra"] == r1["extra"]
    assert len(r0["batches"]) == len(r1["batches"]) > 0
    assert not set(r0["batches"]) & set(r1["batches"]), "the ranks drew the same batches"
    logged = [{k: v for k, v in r["logged"].items() if k != "sec_per_step"} for r in (r0, r1)]
    assert logged[0] == logged[1], "logged values must be the ranks' average on both"


def test_began_halves_both_ranks_learning_rates_at_the_same_step(two_ranks):
    r0, r1 = two_ranks[0]["halving"], two_ranks[1]["halving"]
    assert r0["factors"] == r1["factors"] and r0["params"] == r1["params"]


def test_two_ranks_equal_one_process_with_accumulation(two_ranks):
    """2 ranks x 1 micro-batch and 1 process x 2 micro-batches run the same micro-batches with
    the same noise (seeded by global micro-batch index): equal to float rounding of the
    reduction order (measured: bit-identical here). 1 process without accumulation draws its
    noise as one batch, so it agrees only statistically: within 0.4 of the distance trained."""
    two = two_ranks[0]["compare"]
    assert _max_difference(two, two_ranks[1]["compare"]) == 0.0
    accumulated = _single(COMPARE_STEPS, accumulate=2)
    assert _max_difference(two, accumulated) < 1e-5
    plain = _single(COMPARE_STEPS)
    origin = _single(0)
    assert _relative_distance(two, plain, origin) < 0.4  # measured: 0.20 on this CPU


def test_accumulation_averages_micro_batches_on_one_device():
    """accumulate=2 at batch 16 vs accumulate=1 at batch 16 (one process): the same data, the
    loss scaled by 1/2 per micro-batch; close to the plain run, and not the same run."""
    origin, plain = _single(0), _single(COMPARE_STEPS)
    accumulated = _single(COMPARE_STEPS, accumulate=2)
    assert 0 < _relative_distance(accumulated, plain, origin) < 0.4
    # summing instead of averaging the micro-batches would double the step taken by SGD-like
    # updates; Adam normalises it, so check the logged loss is a mean, not a sum
    trainer = check_trainer(
        "wgan-gp", steps=1, model=NOLOGNORM, train_options={**TINY, "accumulate": 4}
    )[0]
    record = trainer.fit()[-1]
    one = check_trainer("wgan-gp", steps=1, model=NOLOGNORM, train_options=TINY)[0].fit()[-1]
    assert abs(record["loss/G"] - one["loss/G"]) < 0.5 * abs(one["loss/G"]) + 0.1


def test_a_divergence_on_one_rank_stops_both_with_one_line(two_ranks):
    lines = [r["divergence"] for r in two_ranks]
    assert lines[0] == lines[1], lines
    assert lines[0].startswith("training diverged at step 1: the D loss is nan"), lines[0]
    assert "\n" not in lines[0] and lines[0].endswith("at step 3")


def test_a_batch_that_does_not_split_is_refused_in_one_line(two_ranks):
    for r in two_ranks:  # 18 images over 2 ranks x 2 micro-batches
        assert r["indivisible"].startswith("train.batch_size=18 (images per optimizer step")
        assert "2 processes x train.accumulate=2 = 4: use 16 or 20" in r["indivisible"]
    with pytest.raises(
        ConfigError, match="train.batch_size=10 .* 1 processes x train.accumulate=4"
    ):
        TrainConfig(batch_size=10, accumulate=4).validate()
    with pytest.raises(ConfigError, match="train.accumulate=0"):
        TrainConfig(accumulate=0).validate()
    check_batch_split(64, 4, 2)  # 8 images per micro-batch: fine


@pytest.mark.slow
def test_killed_two_rank_run_resumes_on_one_rank(tmp_path):
    """A 2-rank run SIGKILLed after step 3 (checkpoint at step 2) resumes on one process with
    train.accumulate=2 and ends where one process with accumulate=2 would have: the same
    micro-batches and noise (float rounding of the reduction order apart)."""
    run = tmp_path / "run"
    p = torchrun(RUNNER, "3", str(run), "wgan-gp", "digits", *RUN_ITEMS)
    assert p.returncode != 0 and (run / "checkpoints" / "latest.pt").exists(), p.stderr[-2000:]
    assert not (tmp_path / "run-2").exists()
    p = torchrun(RUNNER, "0", str(run), "--resume", "train.accumulate=2", nproc=1)
    assert p.returncode == 0, p.stderr[-2000:]
    resumed = torch.load(run / "checkpoints" / "latest.pt", weights_only=False)
    assert resumed["step"] == 6
    ref = tmp_path / "ref"
    p = torchrun(
        RUNNER, "0", str(ref), "wgan-gp", "digits", *RUN_ITEMS, "train.accumulate=2", nproc=1
    )
    assert p.returncode == 0, p.stderr[-2000:]
    expected = torch.load(ref / "checkpoints" / "latest.pt", weights_only=False)
    assert _max_difference(resumed["model"], expected["model"]) < 1e-5


@pytest.mark.slow
def test_sigterm_checkpoints_every_rank_once_and_exits(tmp_path):
    run = tmp_path / "run"
    items = [i for i in RUN_ITEMS if not i.startswith(("train.steps", "train.checkpoint"))]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd += ["-m", "ganarium", "train", "wgan-gp", "--data", "digits", "--run-dir", str(run)]
    cmd += [*items, "train.steps=100000", "train.checkpoint_every=0"]
    p = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "metrics.jsonl").exists():
        time.sleep(0.5)
    time.sleep(2)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=False)
    assert state["step"] > 0
    assert err.count("stopped by SIGTERM") == 2, err[-2000:]  # both ranks stopped cleanly
    assert len(list((run / "checkpoints").glob("step_*.pt"))) == 1


@pytest.mark.slow
def test_every_recipe_trains_on_two_ranks(tmp_path):
    out = tmp_path / "all"
    out.mkdir()
    p = torchrun(WORKER, str(out), "identical", ",".join(RECIPES.names()), timeout=1800)
    assert p.returncode == 0, p.stderr[-3000:]
    r0, r1 = (torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2))
    for name in RECIPES.names():
        assert r0[name]["params"] == r1[name]["params"], name
        assert r0[name]["buffers"] == r1[name]["buffers"], name
        assert r0[name]["extra"] == r1[name]["extra"], name
        assert not set(r0[name]["batches"]) & set(r1[name]["batches"]), name
