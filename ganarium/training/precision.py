"""Mixed precision and compiled nets in the Trainer's step: autocast (``train.amp``), one fp16
loss scaler per optimizer, and which phases take input gradients, found by watching each
phase's first run (they read the current loss scale, and run eager under ``train.compile``)."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from ganarium.recipe import Phase
from ganarium.training.config import TrainConfig


def takes_input_gradients(error: BaseException) -> bool:
    """Whether ``error`` is torch.compile refusing to differentiate a compiled net twice."""
    text = str(error)
    return "double backward" in text or "donated buffer" in text


class InputGradientWatch(TorchFunctionMode):
    """Notes whether the code run inside it calls ``torch.autograd.grad`` (a gradient penalty,
    R1, path length, a latent step: everything ``ganarium.amp.input_grad`` computes)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.autograd.grad:
            self.seen = True
        return func(*args, **(kwargs or {}))


class Precision:
    """Autocast, loss scaling and eager phases for one Trainer.

    Under ``train.compile`` or fp16 a phase's first run is watched, eager, for calls of
    ``torch.autograd.grad`` (``probes``); a phase that makes them keeps running eager (compile)
    and reads the fresh loss scale (fp16). Each optimizer has its own ``GradScaler``, updated
    after each of its steps. ``announce``: whether this process says which phases run eager."""

    def __init__(
        self,
        cfg: TrainConfig,
        device: torch.device,
        optimizers: dict[str, torch.optim.Optimizer],
        announce: bool = True,
    ) -> None:
        self.cfg, self.announce = cfg, announce
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.device_type = device.type
        # each optimizer its own loss scaler, updated after each of its steps (fp16 only)
        self.scalers = {
            k: torch.amp.GradScaler(device.type, enabled=cfg.amp == "fp16") for k in optimizers
        }
        self.input_grad_phases: set[str] = set()  # run eager under train.compile
        self.probed: set[str] = set()  # phases whose first run was watched for input gradients
        self._host_scale: dict[str, float] = {}  # each fp16 scaler's scale as last read
        self._scale_current: set[str] = set()  # scalers not updated since that read

    def autocast(self) -> contextlib.AbstractContextManager:
        """The loss's autocast (``train.amp``); nothing under fp32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def probes(self, phase: Phase) -> bool:
        """Whether this run of ``phase`` is watched for input gradients (its first, under
        compile or fp16)."""
        return (self.cfg.compile or self.cfg.amp == "fp16") and phase.name not in self.probed

    def may_fail_compiled(self, phase: Phase, probe: bool) -> bool:
        """Whether ``phase`` runs compiled though a penalty its first run skipped may need
        input gradients later (its random state is kept for an eager rerun)."""
        return self.cfg.compile and not probe and phase.name not in self.input_grad_phases

    def phase_mode(self, phase: Phase, probe: bool) -> contextlib.AbstractContextManager:
        """Compiled nets run eager in phases that take input gradients and in watched runs."""
        if self.cfg.compile and (probe or phase.name in self.input_grad_phases):
            return torch.compiler.set_stance("force_eager")
        return contextlib.nullcontext()

    def watched(self, phase: Phase, watch: InputGradientWatch) -> None:
        """Record what ``phase``'s watched first run did."""
        self.probed.add(phase.name)
        if watch.seen:
            self.run_eager(phase, "takes input gradients (a penalty such as R1 or GP)")

    def run_eager(self, phase: Phase, why: str) -> None:
        """From now on ``phase`` runs eager (and reads the fresh loss scale)."""
        self.input_grad_phases.add(phase.name)
        if self.cfg.compile and self.announce:
            print(
                f"ganarium: train.compile: phase {phase.name!r} {why}, which compiled nets "
                "cannot differentiate twice: it runs eager",
                file=sys.stderr,
            )

    def loss_scale(self, phase: Phase) -> float:
        """The fp16 loss scale ``input_grad`` multiplies by in ``phase``: read from the device
        (a host sync) only for phases that take input gradients, or not yet known not to; the
        others never use it, and get the value last read."""
        scaler = self.scalers[phase.optimizer]
        if not scaler.is_enabled():
            return 1.0
        name = phase.optimizer
        fresh = phase.name in self.input_grad_phases or phase.name not in self.probed
        if (fresh and name not in self._scale_current) or name not in self._host_scale:
            self._host_scale[name] = scaler.get_scale()
            self._scale_current.add(name)
        return self._host_scale[name]

    def backward(
        self, name: str, opt: torch.optim.Optimizer, loss: torch.Tensor, first: bool
    ) -> None:
        """Back-propagate one micro-batch's loss for optimizer ``name`` (the first clears the
        gradients; later ones add to them)."""
        scaler = self.scalers[name]
        if first:
            opt.zero_grad(set_to_none=True)
        if not scaler.is_enabled():
            loss.backward()
        else:
            scaler.scale(loss).backward()

    def step(self, name: str, opt: torch.optim.Optimizer, verdict: bool = True) -> bool:
        """Step optimizer ``name`` through its scaler; False when fp16 skipped the step. Only a
        ``verdict`` (asked for phases with an ``after`` hook) reads the scale on the host;
        otherwise the step stays free of host syncs (bar the one torch's scaler takes for
        optimizers without fused unscaling)."""
        scaler = self.scalers[name]
        if not scaler.is_enabled():
            opt.step()
            return True
        if verdict and name not in self._scale_current:
            self._host_scale[name] = scaler.get_scale()
        before = self._host_scale.get(name, 0.0)
        scaler.step(opt)
        scaler.update()
        if not verdict:
            self._scale_current.discard(name)
            return True
        after = self._host_scale[name] = scaler.get_scale()
        self._scale_current.add(name)
        return after >= before  # the scale drops exactly when the step was skipped

    def state_dict(self) -> dict[str, dict[str, Any]]:
        return {k: s.state_dict() for k, s in self.scalers.items()}

    def load_state_dict(self, state: dict[str, dict[str, Any]]) -> None:
        for k, scaler in self.scalers.items():
            scaler.load_state_dict(state.get(k, {}))
        self._scale_current.clear()
