"""The players' optimizers as the Trainer runs them: which kernel torch's Adam uses, each
player's parameters, the learning-rate schedule, and which player's parameters require
gradients during a phase."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ganarium.training.config import TrainConfig

FUSABLE = (torch.optim.Adam, torch.optim.AdamW)
FOREACHABLE = (*FUSABLE, torch.optim.RMSprop, torch.optim.SGD)


def set_optimizer_impl(optimizers: Iterable[torch.optim.Optimizer], impl: str) -> None:
    """Point torch's Adam (and RMSprop, SGD for ``foreach``) at the kernel ``impl`` names:
    ``auto`` leaves torch's choice, ``foreach`` a few multi-tensor kernels per step, ``fused``
    one kernel per parameter group (Adam, AdamW; on CUDA it also unscales fp16 gradients inside
    the kernel, so the loss scaler's step needs no host sync). Other optimizers are left
    alone."""
    for opt in optimizers:
        fused = impl == "fused" and isinstance(opt, FUSABLE)
        if not (fused or isinstance(opt, FOREACHABLE)):
            continue
        for group in opt.param_groups:
            if impl == "auto":  # torch's choice, also after resuming a run that made another
                group.update({k: None for k in ("foreach", "fused") if group.get(k)})
                continue
            group["foreach"] = not fused
            if fused or "fused" in group:
                group["fused"] = True if fused else None
            if fused:  # a fused step counts on the parameter's device (a resumed CPU count moves)
                for p in group["params"]:
                    step = opt.state.get(p, {}).get("step")
                    if isinstance(step, torch.Tensor):
                        opt.state[p]["step"] = step.to(p.device, torch.float32)
        opt._step_supports_amp_scaling = fused  # type: ignore[attr-defined]


def player_parameters(
    optimizers: dict[str, torch.optim.Optimizer],
) -> dict[str, list[torch.nn.Parameter]]:
    """Each player's parameters: what its optimizer steps (so EMA copies and frozen teachers are
    left out), a parameter in two of its groups once."""
    out: dict[str, list[torch.nn.Parameter]] = {}
    for player, opt in optimizers.items():
        seen: dict[int, torch.nn.Parameter] = {}
        for group in opt.param_groups:
            for p in group["params"]:
                seen.setdefault(id(p), p)
        out[player] = list(seen.values())
    return out


class LearningRateSchedule:
    """``train.lr_schedule``: the factor every learning rate is multiplied by at a step.
    'linear': constant until ``lr_decay_start`` of train.steps, then linearly to 0 at the end
    (CycleGAN's schedule with 0.5; from the start with 0), letting the players settle. 'step':
    multiplied by ``lr_step_factor`` from ``lr_decay_start`` of train.steps on (SRGAN's 1e-4 ->
    1e-5). It reads ``cfg`` at each call, so a run given more steps decays over them."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg

    def factor(self, step: int) -> float:
        """The learning rates' factor at ``step``."""
        if self.cfg.steps <= 0:
            return 1.0
        t, start = step / self.cfg.steps, self.cfg.lr_decay_start
        if self.cfg.lr_schedule == "linear":
            return max(0.0, min(1.0, (1.0 - t) / (1.0 - start)))
        if self.cfg.lr_schedule == "step":
            return self.cfg.lr_step_factor if t >= start else 1.0
        return 1.0

    def schedulers(
        self, optimizers: dict[str, torch.optim.Optimizer]
    ) -> dict[str, torch.optim.lr_scheduler.LambdaLR]:
        """One scheduler per optimizer, stepped after each training step."""
        return {k: torch.optim.lr_scheduler.LambdaLR(o, self.factor) for k, o in optimizers.items()}


class TrainableSwitch:
    """During a phase only its optimizer's parameters require gradients, so a G step does not
    back-propagate into D's weights (their gradients would be discarded)."""

    def __init__(self, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        # each optimizer's parameters as its groups list them (what its gradients reduce over)
        self.params = {
            k: [p for g in o.param_groups for p in g["params"]] for k, o in optimizers.items()
        }
        self.current: str | None = None

    def only(self, optimizer: str) -> None:
        """Let the parameters of ``optimizer`` alone require gradients."""
        if self.current == optimizer:
            return
        for k, params in self.params.items():
            if k != optimizer:
                for p in params:
                    p.requires_grad_(False)
        for p in self.params[optimizer]:
            p.requires_grad_(True)
        self.current = optimizer

    def release(self) -> None:
        """Every parameter requires gradients again (at the end of ``fit``)."""
        for params in self.params.values():
            for p in params:
                p.requires_grad_(True)
        self.current = None
