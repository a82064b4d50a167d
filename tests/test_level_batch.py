"""A batch size the recipe sets per step (ProGAN's batch per level, Karras et al. 2018, App. A.1):
the stream resizes and goes on through its epoch's order, images are counted at the drawn size,
``train.kimg`` counts the steps, the EMA half-life reads the step's batch, and a run cut after a
resize resumes exactly."""

from pathlib import Path

import pytest
import torch

from ganarium.checkpoint import load_checkpoint
from ganarium.data import GanDataset
from ganarium.data.stream import BatchStream
from ganarium.errors import ConfigError, DataError
from ganarium.runs import resume_run, start_run
from ganarium.training.callbacks import Callback
from ganarium.training.config import TrainConfig
from ganarium.training.ema import ema_decay_at


class Numbers(GanDataset):
    """Sample i is the number i: read one by one (the DataLoader path of the stream), or
    indexed in memory."""

    def __init__(self, in_memory: bool = False) -> None:
        self.tensors = {"image": torch.arange(10.0).view(10, 1)} if in_memory else None

    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": torch.tensor([float(i)])}

    def in_memory(self) -> dict[str, torch.Tensor] | None:
        return self.tensors


def _drawn(stream: BatchStream, n: int) -> list[list[int]]:
    return [next(stream)["image"].flatten().long().tolist() for _ in range(n)]


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_resized_stream_goes_on_through_its_order_and_resumes(in_memory):
    data = Numbers(in_memory)
    whole = BatchStream(data, 4, seed=3)
    order = [int(i) for i in whole._permutation()]
    first = _drawn(whole, 1)
    whole.resize(2)
    rest = _drawn(whole, 3)  # 4 + 2 + 2 = 8 of 10; the next batch of 2 still fits
    assert first + rest == [order[0:4], order[4:6], order[6:8], order[8:10]]
    nxt = _drawn(whole, 1)[0]  # a new epoch, another order
    assert whole.epoch == 1 and whole.offset == 0 and len(nxt) == 2

    cut = BatchStream(data, 4, seed=3)
    _drawn(cut, 1)
    cut.resize(2)
    _drawn(cut, 1)
    state = cut.state_dict()
    assert state["offset"] == 4 and state["batch_size"] == 2
    again = BatchStream(data, 4, seed=3)
    again.load_state_dict(state)
    assert _drawn(again, 2) == [order[6:8], order[8:10]]
    # a stream that never resized saves what it always saved
    assert BatchStream(data, 4, seed=3).state_dict() == {"epoch": 0, "index": 0}


def test_a_resize_the_data_or_the_processes_cannot_take_is_refused():
    data = Numbers(True)
    with pytest.raises(DataError, match="larger than the dataset"):
        BatchStream(data, 4).resize(11)
    with pytest.raises(DataError, match="does not divide over 2 processes"):
        BatchStream(data, 4, world_size=2).resize(3)


def test_ema_half_life_reads_the_steps_batch():
    cfg = TrainConfig(batch_size=16, ema_kimg=10.0, ema_rampup=0.0)
    assert ema_decay_at(cfg, 5) == pytest.approx(0.5 ** (16 / 10_000))
    assert ema_decay_at(cfg, 5, batch_size=4) == pytest.approx(0.5 ** (4 / 10_000))


# -- ProGAN's batch per level through the Trainer -----------------------------------------------
PROGAN = [
    "data.size=16",
    "model.z_dim=8",
    "model.width=8",
    "model.fade_kimg=0.016",  # 16 images per fade-in and per stable stretch
    "model.stable_kimg=0.016",
    "model.level_batch=4=8,16=2",  # 8 at 4x4, train.batch_size (4) at 8x8, 2 at 16x16
    "train.batch_size=4",
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "train.log_every=1",
]


class Sizes(Callback):
    def __init__(self, stop_at: int | None = None) -> None:
        self.sizes: list[tuple[int, int, int]] = []
        self.stop_at = stop_at

    def on_step(self, trainer) -> None:
        self.sizes.append((trainer.step, trainer.stream.batch_size, int(trainer.recipe.level)))
        if trainer.step == self.stop_at:
            trainer.request_stop("test")


def test_progan_draws_its_batch_per_level_and_kimg_counts_the_steps(tmp_path):
    spy = Sizes()
    trainer = start_run(
        "progan", "digits", [*PROGAN, "train.kimg=0.08"], run_dir=str(tmp_path / "r")
    )
    seen_batches: list[int] = []
    d_phase = trainer.phases[0]
    original = d_phase.loss

    def d_spy(batch, ctx):
        seen_batches.append(len(batch["image"]))
        return original(batch, ctx)

    d_phase.loss = d_spy
    trainer.fit(callbacks=[spy])
    # 16 images at 4x4 (2 steps of 8), fade to 8 and 8 alone (4 + 4 steps of 4), fade to 16 and
    # 16 alone (8 + 8 steps of 2) = 80 images in 26 steps
    assert trainer.cfg.steps == 26 and trainer.images_seen == 80
    assert seen_batches == [8] * 2 + [4] * 8 + [2] * 16
    assert [level for _, _, level in spy.sizes] == [0] * 2 + [1] * 8 + [2] * 16


def test_progan_cut_after_a_resize_resumes_exactly(tmp_path):
    run = [*PROGAN, "train.steps=14", "train.checkpoint_every=5"]
    start_run("progan", "digits", run, run_dir=str(tmp_path / "whole")).fit()
    start_run("progan", "digits", run, run_dir=str(tmp_path / "cut")).fit(
        callbacks=[Sizes(stop_at=7)]
    )
    resume_run(str(tmp_path / "cut")).fit()
    whole, cut = (
        load_checkpoint(Path(tmp_path, n, "checkpoints", "latest.pt")) for n in ("whole", "cut")
    )
    assert whole["step"] == cut["step"] == 14 and whole["images_seen"] == cut["images_seen"]
    assert whole["stream"] == cut["stream"] and whole["stream"]["batch_size"] == 2
    assert all(torch.equal(whole["model"][k], cut["model"][k]) for k in whole["model"])


def test_progan_level_batch_needs_the_schedule_in_images(tmp_path):
    with pytest.raises(ConfigError, match="level_batch needs the schedule in images"):
        start_run(
            "progan", "digits", [*PROGAN[:3], "model.level_batch=8=4"], run_dir=str(tmp_path / "a")
        )
    with pytest.raises(ConfigError, match="set both fade_kimg and stable_kimg"):
        start_run("progan", "digits", [*PROGAN[:4]], run_dir=str(tmp_path / "b"))
    with pytest.raises(ConfigError, match="level_batch"):
        start_run(
            "progan", "digits", [*PROGAN[:5], "model.level_batch=8:4"], run_dir=str(tmp_path / "c")
        )
