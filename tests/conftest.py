import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

# One intra-op thread per test worker: tiny models gain nothing from more, and pytest-xdist
# already runs one worker per core.
torch.set_num_threads(1)
os.environ.setdefault("GANARIUM_NO_DOWNLOAD", "1")


ROOT = Path(__file__).resolve().parents[1]


def load_script(relative: str) -> ModuleType:
    """A script of the checkout (``scripts/x.py``, ``benchmarks/y.py``: folders that are not
    packages) as a module, registered in sys.modules under its file's stem."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def fit_quietly(recipe, data, steps: int) -> tuple:
    """Train ``recipe`` on ``data`` for ``steps`` on the CPU, logging every step and writing
    nothing; returns (trainer, history)."""
    from ganarium.training.trainer import TrainConfig, Trainer

    cfg = TrainConfig(
        steps=steps,
        batch_size=16,
        device="cpu",
        progress=False,
        tensorboard=False,
        log_every=1,
        sample_every=0,
        checkpoint_every=0,
    )
    trainer = Trainer(recipe, data, cfg)
    return trainer, trainer.fit()


@pytest.fixture
def tiny_overrides() -> list[str]:
    return [
        "train.steps=4",
        "train.batch_size=16",
        "train.log_every=2",
        "train.sample_every=2",
        "train.checkpoint_every=2",
        "train.progress=false",
        "train.tensorboard=false",
    ]
