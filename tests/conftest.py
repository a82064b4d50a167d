import os

import pytest
import torch

# One intra-op thread per test worker: tiny models gain nothing from more, and pytest-xdist
# already runs one worker per core.
torch.set_num_threads(1)
os.environ.setdefault("GANARIUM_NO_DOWNLOAD", "1")


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
