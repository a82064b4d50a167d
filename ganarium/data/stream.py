"""An endless, seeded, resumable stream of batches."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ganarium.errors import DataError


class _OffsetSampler(Sampler[int]):
    def __init__(self, order: torch.Tensor) -> None:
        self.order = order

    def __iter__(self):
        return iter(self.order.tolist())

    def __len__(self) -> int:
        return len(self.order)


class BatchStream:
    """Yields dict batches forever, epoch after epoch, each epoch a seeded permutation.

    Its position (epoch, batch index) is saved in checkpoints, so a resumed run sees exactly the
    batches the uninterrupted run would have seen. In-memory datasets (with ``.tensors``) are
    indexed directly; others go through a DataLoader.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int = 0,
        device: str | torch.device = "cpu",
        num_workers: int = 0,
    ) -> None:
        n = len(dataset)  # type: ignore[arg-type]
        if n == 0:
            raise DataError("the dataset is empty: point the data option at a folder with images")
        if batch_size > n:
            raise DataError(
                f"batch_size={batch_size} is larger than the dataset ({n} samples): "
                f"lower train.batch_size"
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.device = torch.device(device)
        self.num_workers = num_workers
        self.batches_per_epoch = n // batch_size
        self.epoch = 0
        self.index = 0
        self._tensors = getattr(dataset, "tensors", None)
        if self._tensors is not None:
            self._tensors = {k: v.to(self.device) for k, v in self._tensors.items()}
        self._order: torch.Tensor | None = None
        self._loader_iter = None

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(len(self.dataset), generator=g)  # type: ignore[arg-type]

    def __iter__(self):
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self.index >= self.batches_per_epoch:
            self.epoch += 1
            self.index = 0
            self._order = None
            self._loader_iter = None
        if self._order is None:
            self._order = self._permutation()
        if self._tensors is not None:
            idx = self._order[self.index * self.batch_size : (self.index + 1) * self.batch_size]
            idx = idx.to(self.device)
            batch = {k: v.index_select(0, idx) for k, v in self._tensors.items()}
        else:
            if self._loader_iter is None:
                rest = self._order[self.index * self.batch_size :]
                loader = DataLoader(
                    self.dataset,
                    batch_size=self.batch_size,
                    sampler=_OffsetSampler(rest),
                    drop_last=True,
                    num_workers=self.num_workers,
                    pin_memory=self.device.type == "cuda",
                )
                self._loader_iter = iter(loader)
            batch = next(self._loader_iter)
            batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        self.index += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.index = int(state["index"])
        self._order = None
        self._loader_iter = None
