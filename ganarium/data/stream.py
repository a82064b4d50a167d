"""An endless, seeded, resumable stream of batches."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ganarium.data import in_memory
from ganarium.errors import DataError

_SEED_MIX = 100_003


def sample_seed(seed: int, epoch: int, position: int) -> int:
    """The seed of the sample at ``position`` of ``epoch``'s order: whatever a dataset draws
    for it (random crops, flips) depends on these alone, not on workers or on resumes."""
    return (seed * _SEED_MIX + epoch) * 1_000_003 + position


class _SeededItems(Dataset):
    """``dataset[i]`` drawn under its own seed: items are requested as ``(i, seed)``."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, item: tuple[int, int]) -> dict[str, torch.Tensor]:
        index, seed = item
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.dataset[index]


class _OrderSampler(Sampler[tuple[int, int]]):
    """Yields (index, seed) for the rest of an epoch's order, from ``start`` on; with a shard
    (``part`` of ``parts`` of each global batch of ``batch`` positions) only that part's."""

    def __init__(
        self,
        order: torch.Tensor,
        start: int,
        seed: int,
        epoch: int,
        batch: int = 1,
        part: int = 0,
        parts: int = 1,
    ) -> None:
        self.order, self.start, self.seed, self.epoch = order, start, seed, epoch
        self.batch, self.part, self.parts = batch, part, parts

    def _positions(self) -> range | list[int]:
        if self.parts == 1:
            return range(self.start, len(self.order))
        local = self.batch // self.parts
        first = range(self.start, len(self.order) - self.batch + 1, self.batch)
        return [b + self.part * local + i for b in first for i in range(local)]

    def __iter__(self):
        for pos in self._positions():
            yield int(self.order[pos]), sample_seed(self.seed, self.epoch, pos)

    def __len__(self) -> int:
        return len(self._positions())


def fixed_examples(dataset: Dataset, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``n`` examples (fewer if the data is smaller) at seeded random indices, always the same
    for the same seed; for previews. Call it inside ``torch.random.fork_rng``."""
    count = len(dataset)  # type: ignore[arg-type]
    idx = torch.randperm(count, generator=torch.Generator().manual_seed(seed + 4242))[:n]
    tensors = in_memory(dataset)
    if tensors is not None:
        return {k: v[idx] for k, v in tensors.items()}
    items = [_SeededItems(dataset)[(int(i), sample_seed(seed, -1, int(i)))] for i in idx]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def image_stand_in(
    shape: tuple[int, ...], dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """A tensor of ``shape``, ``dtype`` and ``device`` with no data of its own (one zero, stride
    0): the images of a phase that uses them only for their shape."""
    return torch.zeros((), dtype=dtype, device=device).expand(shape)


IMAGES = "image"  # the batch entry that holds the real images (a stand-in for ``images=False``)


class BatchStream:
    """Yields dict batches forever, epoch after epoch, each epoch a seeded permutation.

    Its position (epoch, batch index) is saved in checkpoints, so a resumed run sees exactly the
    batches the uninterrupted run would have seen. In-memory datasets (``in_memory()``) are
    indexed directly; others go through a DataLoader that draws no seed from the global RNG
    (its generator is seeded per epoch) and reads each sample under a seed of its own
    (``sample_seed``), so random augmentations are the same with any number of workers and
    after any resume.

    ``batch_size`` is the global batch. Sharded over ``world_size`` processes, each yields its
    ``rank``'s contiguous slice of it (``batch_size // world_size`` samples; the same samples,
    order and augmentation whatever the split), and the position is the global one, so a run
    resumes with another number of processes.

    ``draw(images=False)`` takes the next batch's positions as ``next`` does but copies only
    its other entries (labels, captions, conditions); its ``"image"`` entry is a stand-in
    (``image_stand_in``).
    The order, positions and so the run are the same either way. (Through a DataLoader the
    samples are still read and the images dropped after.)

    ``resize(n)`` changes the batch size from the next batch on (ProGAN's batch per level): the
    epoch goes on from the same position in its order, and the position is saved in samples.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int = 0,
        device: str | torch.device = "cpu",
        num_workers: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if len(dataset) == 0:  # type: ignore[arg-type]
            raise DataError("the dataset is empty: point the data option at a folder with images")
        self.dataset = dataset
        self.seed = seed
        self.device = torch.device(device)
        self.num_workers = num_workers
        self.rank, self.world_size = rank, world_size
        self._set_size(batch_size)
        self.epoch = 0
        self.index = 0  # batches of the current size drawn this epoch, after ``offset``
        self.offset = 0  # positions of this epoch's order drawn before the last resize
        self.resized = False
        self._tensors = in_memory(dataset)
        if self._tensors is not None:
            self._tensors = {k: v.to(self.device) for k, v in self._tensors.items()}
        self._order: torch.Tensor | None = None
        self._loader_iter = None

    @property
    def drawn(self) -> int:
        """Batches drawn so far."""
        return self.epoch * self.batches_per_epoch + self.index

    def resize(self, batch_size: int) -> None:
        """Draw ``batch_size`` samples per batch from the next batch on, going on from the
        current position of the epoch's order."""
        if batch_size == self.batch_size:
            return
        drawn = self.index * self.batch_size
        self._set_size(batch_size)
        self.offset, self.index, self.resized = self.offset + drawn, 0, True

    def _set_size(self, batch_size: int) -> None:
        """Draw global batches of ``batch_size`` (refused in one line when the data or the
        processes cannot take it)."""
        n = len(self.dataset)  # type: ignore[arg-type]
        if batch_size > n:
            raise DataError(
                f"a batch of {batch_size} is larger than the dataset ({n} samples): lower "
                "train.batch_size (or the recipe's batch per level)"
            )
        if batch_size % self.world_size:
            raise DataError(
                f"a batch of {batch_size} does not divide over {self.world_size} processes"
            )
        self.batch_size = batch_size
        self.local_batch_size = batch_size // self.world_size
        self.batches_per_epoch = n // batch_size
        self._loader_iter = None

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * _SEED_MIX + self.epoch)
        return torch.randperm(len(self.dataset), generator=g)  # type: ignore[arg-type]

    def _loader(self) -> DataLoader:
        start = self.offset + self.index * self.batch_size
        return DataLoader(
            _SeededItems(self.dataset),
            batch_size=self.local_batch_size,
            sampler=_OrderSampler(
                self._order,
                start,
                self.seed,
                self.epoch,
                self.batch_size,
                self.rank,
                self.world_size,
            ),
            drop_last=True,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            # the loader's base seed comes from here, not from the training RNG
            generator=torch.Generator().manual_seed(self.seed * _SEED_MIX + self.epoch),
            persistent_workers=False,
        )

    def __iter__(self):
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        return self.draw()

    def draw(self, images: bool = True) -> dict[str, torch.Tensor]:
        """The next batch; with ``images=False`` its ``"image"`` is a stand-in (no copy)."""
        if self.offset + (self.index + 1) * self.batch_size > len(self.dataset):  # type: ignore[arg-type]
            self.epoch += 1
            self.index = 0
            self.offset = 0
            self._order = None
            self._loader_iter = None
        if self._order is None:
            self._order = self._permutation()
        if self._tensors is not None:
            first = self.offset + self.index * self.batch_size + self.rank * self.local_batch_size
            idx = self._order[first : first + self.local_batch_size]
            idx = idx.to(self.device)
            batch = {
                k: v.index_select(0, idx)
                if images or k != IMAGES
                else image_stand_in((len(idx), *v.shape[1:]), v.dtype, self.device)
                for k, v in self._tensors.items()
            }
        else:
            if self._loader_iter is None:
                self._loader_iter = iter(self._loader())
            batch = next(self._loader_iter)
            batch = {
                k: v.to(self.device, non_blocking=True)
                if images or k != IMAGES
                else image_stand_in(tuple(v.shape), v.dtype, self.device)
                for k, v in batch.items()
            }
        self.index += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"epoch": self.epoch, "index": self.index}
        if self.resized:
            state.update(offset=self.offset, batch_size=self.batch_size)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The saved position (and batch size, which a resized stream had changed)."""
        self.epoch = int(state["epoch"])
        self.index = int(state["index"])
        self.offset = int(state.get("offset", 0))
        if "batch_size" in state:
            self.resized = True
            self._set_size(int(state["batch_size"]))
        self._order = None
        self._loader_iter = None
