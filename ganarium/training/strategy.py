"""Where training runs: one device, or data-parallel over the processes ``torchrun`` starts.

The Trainer asks a strategy to place the recipe, shard the batch stream, average each
optimizer's gradients, agree on stopping and divergence, average logged values, make the
recipe's buffers and extra state identical at checkpoint time, fork or keep this device's
random state, and say which process writes.
``SingleDevice`` does nothing of that; ``DataParallel`` (one process per device, Li et al. 2020,
"PyTorch Distributed") averages gradients with one flattened all-reduce per optimizer step, as
StyleGAN2-ADA's training loop does, so penalties that take input gradients, lazy and growing
phases and N-player recipes need no change and no ``DistributedDataParallel`` wrapper.

Collectives on the device's tensors (gradients, buffers) use NCCL on CUDA and gloo on the CPU;
small control values (stop flags, logged numbers, divergence steps) always go through a gloo
group on the CPU.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
from torch import nn

from ganarium.data.stream import BatchStream
from ganarium.errors import ConfigError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from ganarium.recipe import Recipe

RngState = tuple[torch.Tensor, torch.Tensor | None]  # the CPU's and this device's (CUDA) state

TIMEOUT = datetime.timedelta(minutes=60)  # rank 0's evaluations and sample grids may be long


def env_world_size() -> int:
    """Processes in the job as torchrun says (``WORLD_SIZE``); 1 outside torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def env_rank() -> int:
    """This process's rank as torchrun says (``RANK``); 0 outside torchrun. Usable before the
    process group exists (e.g. to let rank 0 alone claim the run folder)."""
    return int(os.environ.get("RANK", "0"))


def resolve_device(name: str, local_rank: int = 0, world_size: int = 1) -> torch.device:
    """The device ``train.device`` names for this process: ``auto`` is CUDA when there is one;
    under torchrun ``auto`` and ``cuda`` take GPU ``LOCAL_RANK``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name} but no CUDA GPU is available: use train.device=cpu")
    if world_size > 1:
        if name == "cuda":
            return torch.device("cuda", local_rank)
        if name.startswith("cuda:"):
            raise ConfigError(
                f"train.device={name} names one GPU but torchrun started {world_size} processes: "
                "use train.device=auto or cuda (each process takes GPU LOCAL_RANK)"
            )
        if name == "mps":
            raise ConfigError("train.device=mps cannot train data-parallel: use cpu or cuda")
    return torch.device(name)


def _tree_map(obj: Any, fn) -> Any:
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _tree_map(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tree_map(v, fn) for v in obj)
    return obj


def statistics_buffers(module: nn.Module) -> list[torch.Tensor]:
    """The buffers that are averages of batch statistics, which processes average: batch
    norm's running mean and variance and every scalar floating-point buffer."""
    out: dict[int, torch.Tensor] = {}
    for m in module.modules():
        for name, b in m.named_buffers(recurse=False):
            if b is None or not b.is_floating_point():
                continue
            batch_norm = isinstance(m, nn.modules.batchnorm._NormBase) and name.startswith(
                "running"
            )
            if batch_norm or b.dim() == 0:
                out[id(b)] = b
    return list(out.values())


class SingleDevice:
    """Training in this one process on one device: every hook is the identity."""

    rank = 0
    local_rank = 0
    world_size = 1

    def __init__(self, device: torch.device) -> None:
        self.device = device

    @property
    def is_writer(self) -> bool:
        """Whether this process writes the run (checkpoints, samples, metrics, the lock)."""
        return self.rank == 0

    def place(self, recipe: Recipe, sync_bn: bool = False) -> Recipe:
        """The freshly built recipe on this process's device, the same on every process."""
        recipe = recipe.to(self.device)
        self.prepare(recipe, sync_bn)
        return recipe

    def prepare(self, recipe: Recipe, sync_bn: bool = False) -> None:
        """Make the freshly built recipe the same on every process (nothing to do here)."""

    def benchmark_convolutions(self) -> None:
        """Let cuDNN time its convolution algorithms (``train.cudnn_benchmark``; CUDA only)."""
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    def batch_stream(
        self, dataset: Dataset, batch_size: int, seed: int, num_workers: int = 0
    ) -> BatchStream:
        """This process's share of the seeded global batches of ``dataset``, on its device."""
        return BatchStream(
            dataset, batch_size, seed, self.device, num_workers, self.rank, self.world_size
        )

    def fork_rng(self) -> contextlib.AbstractContextManager:
        """A block whose random draws leave the training RNG stream (the CPU's and this
        device's) as it was: sampling and evaluation run inside it."""
        return torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else [])

    def rng_state(self) -> RngState:
        """The random state of the CPU and of this device (CUDA), to draw the same again."""
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda

    def set_rng_state(self, state: RngState) -> None:
        """Restore a state ``rng_state`` returned."""
        torch.set_rng_state(state[0])
        if state[1] is not None:
            torch.cuda.set_rng_state(state[1], self.device)

    def reduce_gradients(self, params: Iterable[torch.Tensor]) -> None:
        """Average the gradients of ``params`` over processes (here: one process)."""

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any process."""
        return flag

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the processes that have its key (logged values: a phase
        part may be logged on some ranks only, e.g. a supervised term without labels here)."""
        return values

    def average_logged(self, record: dict[str, Any]) -> None:
        """A log record's numbers averaged over the processes that logged them, in place (one
        process: left as they are)."""

    def earliest(self, steps: list[int], values: list[float]) -> tuple[list[int], list[float]]:
        """Per entry, the smallest non-negative step over processes (-1: none) and the value
        of the process that had it (divergence: the first step with a non-finite loss)."""
        return steps, values

    def sync_state(self, recipe: Recipe) -> None:
        """Make buffers and extra state identical across processes (checkpoint time)."""

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process."""
        return obj

    def close(self) -> None:
        """Leave the process group (nothing to leave here)."""


class DataParallel(SingleDevice):
    """One process per device under torchrun (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``); the
    process group is NCCL on CUDA and gloo on the CPU."""

    def __init__(self, device_name: str = "auto") -> None:
        self.world_size = env_world_size()
        self.rank = env_rank()
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        device = resolve_device(device_name, self.local_rank, self.world_size)
        super().__init__(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            kwargs = {"device_id": device} if device.type == "cuda" else {}
            dist.init_process_group(backend, timeout=TIMEOUT, **kwargs)
        if dist.get_world_size() != self.world_size:
            raise ConfigError(
                f"the process group has {dist.get_world_size()} processes but WORLD_SIZE says "
                f"{self.world_size}"
            )
        backend = dist.get_backend()
        self.control = None if backend == "gloo" else dist.new_group(backend="gloo")

    def prepare(self, recipe: Recipe, sync_bn: bool = False) -> None:
        """Rank 0's parameters and buffers on every process (they are built from the same seed;
        this makes sure), batch norm as SyncBatchNorm when ``sync_bn`` (CUDA only in torch)."""
        if sync_bn:
            if self.device.type != "cuda":
                raise ConfigError(
                    "train.sync_bn=true needs CUDA: torch's SyncBatchNorm runs on GPUs only; "
                    "drop it on the CPU (batch-norm statistics then stay per process)"
                )
            nn.SyncBatchNorm.convert_sync_batchnorm(recipe)
        with torch.no_grad():
            for t in [*recipe.parameters(), *recipe.buffers()]:
                dist.broadcast(t.data, src=0)

    def reduce_gradients(self, params: Iterable[torch.Tensor]) -> None:
        """One flattened all-reduce of the gradients, divided by the number of processes. Which
        parameters have a gradient may depend on the data (a supervised term without labels
        on one rank): the union is agreed first on the CPU (no device sync), and a process
        without a gradient for a parameter contributes zeros, as its samples would."""
        params = list({id(p): p for p in params if p.numel() > 0}.values())
        have = torch.tensor([p.grad is not None for p in params], dtype=torch.uint8)
        anyone = self._cpu_reduce(have.clone(), dist.ReduceOp.MAX).bool().tolist()
        params = [p for p, used in zip(params, anyone, strict=True) if used]
        if not params:
            return
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in params]
        flat = torch.cat([g.flatten() for g in grads])
        dist.all_reduce(flat)
        flat.div_(self.world_size)
        # out of the reduced sum, as stylegan3 does: a non-finite gradient anywhere stays one
        for g, part in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
            g.copy_(part.view_as(g))

    def _cpu_reduce(self, values: torch.Tensor, op: dist.ReduceOp) -> torch.Tensor:
        dist.all_reduce(values, op=op, group=self.control)
        return values

    def any(self, flag: bool) -> bool:
        out = self._cpu_reduce(torch.tensor([int(flag)]), dist.ReduceOp.MAX)
        return bool(out.item())

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        every: list[dict[str, float]] = [{} for _ in range(self.world_size)]
        dist.all_gather_object(every, values, group=self.control)
        keys = dict.fromkeys(k for d in every for k in d)
        return {k: sum(d[k] for d in every if k in d) / sum(k in d for d in every) for k in keys}

    def average_logged(self, record: dict[str, Any]) -> None:
        numbers = {
            k: float(v)
            for k, v in record.items()
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        record.update(self.mean(numbers))

    def earliest(self, steps: list[int], values: list[float]) -> tuple[list[int], list[float]]:
        if not steps:
            return steps, values
        never = 2**62
        mine = torch.tensor([s if s >= 0 else never for s in steps], dtype=torch.long)
        first = self._cpu_reduce(mine.clone(), dist.ReduceOp.MIN)
        # the value of the rank with the earliest step (several: their sum, still non-finite)
        own = torch.tensor(values, dtype=torch.float64)
        picked = torch.where((mine == first) & (first < never), own, torch.zeros_like(own))
        picked = self._cpu_reduce(picked, dist.ReduceOp.SUM)
        return [int(s) if s < never else -1 for s in first.tolist()], picked.tolist()

    def sync_state(self, recipe: Recipe) -> None:
        """Statistics are averaged: batch norm's running mean and variance and scalar
        floating-point buffers (ADA's p and r_t sums, StyleGAN2's pl_mean, BEGAN's k), in
        float64 so buffers already equal stay bit-identical. Other buffers (counters, banks of
        features, w_avg) and the recipe's extra state (pools, memories) become
        rank 0's: averaging samples would blend them."""
        floats = statistics_buffers(recipe)
        chosen = {id(b) for b in floats}
        if floats:
            flat = torch.cat([b.detach().double().flatten() for b in floats])
            dist.all_reduce(flat)
            flat /= self.world_size
            for b, part in zip(floats, flat.split([b.numel() for b in floats]), strict=True):
                b.data.copy_(part.view_as(b))
        for b in recipe.buffers():
            if id(b) not in chosen and b.numel() > 0:
                dist.broadcast(b.data, src=0)
        extra = recipe.extra_state()
        if extra:
            extra = self.broadcast_object(_tree_map(extra, lambda t: t.detach().cpu()))
            recipe.load_extra_state(_tree_map(extra, lambda t: t.to(self.device)))

    def broadcast_object(self, obj: Any) -> Any:
        box = [obj]
        dist.broadcast_object_list(box, src=0, group=self.control)
        return box[0]

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


_ACTIVE: DataParallel | None = None


def strategy_for(device: str) -> SingleDevice:
    """The strategy this process trains with: ``DataParallel`` under torchrun (WORLD_SIZE > 1;
    its process group started once per process), else ``SingleDevice`` on ``device``."""
    global _ACTIVE
    if env_world_size() <= 1:
        return SingleDevice(resolve_device(device))
    if _ACTIVE is None or not dist.is_initialized():
        _ACTIVE = DataParallel(device)
    return _ACTIVE
