"""The CPU-thread policy of a training command (``train.threads``): the ``train`` command
applies it once its Trainer is built; the Trainer itself leaves torch's threads alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch


def other_busy_processes() -> float | None:
    """How many other processes keep the CPU busy: the smaller of the last minute's load
    average and the processes runnable right now (Linux), so neither a job that just ended nor
    a momentary one counts; None where the system does not say."""
    try:
        load = os.getloadavg()[0]
        runnable = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1
    except (OSError, AttributeError, ValueError, IndexError):
        return None
    return min(load, float(runnable))


def set_cpu_threads(threads: int, device: torch.device) -> None:
    """Apply ``train.threads``; left at torch's default (0: a thread per core) on a CPU that
    other processes already keep busy, warn: the threads would contend with them and training
    runs many times slower (measured: 1-3 steps/s instead of 64 on 2 cores)."""
    if threads:
        torch.set_num_threads(threads)
        return
    threads, cores = torch.get_num_threads(), os.cpu_count() or 1
    if device.type != "cpu" or threads < 2:
        return
    busy = other_busy_processes()
    if busy is not None and busy + threads > cores + 0.5:
        print(
            f"ganarium: warning: the CPU is busy (load {busy:.1f} on {cores} cores) and torch "
            f"uses {threads} threads, which will contend with it and slow training; set "
            f"train.threads={max(1, int(cores - busy))} or free the cores",
            file=sys.stderr,
        )
