"""The recipe contract: what every GAN recipe is to the Trainer, the CLI, the checks and the report.

A recipe is an ``nn.Module`` holding its nets. It says how one training step goes as a list of
named phases (``Phase``): a loss to minimise with one optimizer, run every ``every`` steps and
repeated ``repeat`` times (n_critic). Each phase's loss and ``after`` hook get a ``StepContext``:
where training is (step, images seen) and what earlier phases of the same step drew or left.

Its hyper-parameters are a typed ``Hparams`` dataclass (``ganarium.hparams``), one declaration per
key. Everything it offers besides ``generate(n)`` it declares by inheriting a capability's mixin
(``ganarium.capabilities``: a latent, truncation, codes, translation, ...); ``capabilities()``
is read from those mixins, and callers ask ``require(name, flag)`` before calling a capability's
method, which raises one clear line on recipes that do not offer it. Nothing outside a recipe
probes it with ``hasattr`` or signatures.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ganarium.capabilities import Capabilities, CapabilityError
from ganarium.data import DataInfo
from ganarium.errors import ConfigError, DataError
from ganarium.hparams import Hparams
from ganarium.techniques.augment import AugmentHparams, make_augmenter
from ganarium.techniques.ema import ema_update

Batch = dict[str, Tensor]
StepOutput = tuple[Tensor, dict[str, Tensor]]


@dataclass
class StepContext:
    """Where training is, handed to every phase loss and ``after`` hook of one step.

    ``step`` is the index of this generator iteration (0 for the first), ``total_steps`` the
    planned ``train.steps``, ``images_seen`` the real images shown before this step (the
    batches of phases with ``real=True``; see ``Phase``).
    ``batches`` holds the batches drawn so far in this step, by phase name (the last repeat's);
    ``shared`` holds values a phase leaves for later phases of the same step (e.g. fakes).
    ``mean_over_processes`` averages named numbers over the processes of a data-parallel run
    (the Trainer's strategy; itself on one process), for state every process must agree on.
    """

    step: int
    total_steps: int
    images_seen: int = 0
    repeat: int = 0
    batches: dict[str, Batch] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    mean_over_processes: Callable[[dict[str, float]], dict[str, float]] = field(
        default=lambda values: values, repr=False
    )

    @property
    def progress(self) -> float:
        """step / total_steps in [0, 1] (0 when no steps are planned)."""
        return min(1.0, self.step / self.total_steps) if self.total_steps > 0 else 0.0


@dataclass
class Phase:
    """One named part of a training step: ``loss(batch, ctx) -> (loss, logs)`` minimised by
    ``optimizer``, every ``every`` steps, ``repeat`` times in a row.

    ``after(ctx)`` runs after each optimizer step that was taken (e.g. WGAN's weight clipping;
    under fp16 a step the loss scaler skipped is not followed by it). ``batch`` names an earlier
    phase of the same step whose batch this phase reuses (pix2pix's G step sees the pairs its D
    step saw); ``None`` draws a fresh batch. ``real`` says whether that fresh batch counts as
    real images shown (``images_seen``, and so epochs and kimg): true for phases whose real
    images D (or, in a recipe without D, the model) trains on; false for phases that use their
    batch only for its shape and labels, as most G phases do. ``images`` says whether the phase
    reads the values of the batch's real images (``"image"``): false (most G phases), the stream
    copies only the other entries (labels, captions, conditions) at the same positions and
    ``"image"`` holds a stand-in with the batch's shape, dtype and device but no data (zeros,
    stride 0), so the run is the same, without copying images it never looks at.
    """

    name: str
    loss: Callable[[Batch, StepContext], StepOutput]
    optimizer: str
    every: int = 1
    repeat: int = 1
    after: Callable[[StepContext], None] | None = None
    batch: str | None = None
    real: bool = True
    images: bool = True


@dataclass(frozen=True)
class Preview:
    """A picture of what a recipe does now: images (N, C, H, W) in [-1, 1] laid out ``nrow``
    to a row (translators: input | output | target columns)."""

    images: Tensor
    nrow: int


class Recipe(nn.Module):
    """Base of every recipe. Subclasses set ``defaults`` and implement build / configure_optimizers
    / phases / generate, and declare what else they offer in ``capabilities()``."""

    name: ClassVar[str] = ""
    # the hyper-parameters (model.*), one typed declaration per key; a recipe's ``Hparams``
    # subclasses its parent recipe's (every recipe accepts the augmentation keys)
    Hparams: ClassVar[type[Hparams]] = AugmentHparams
    # every key's default, derived from ``Hparams`` (read by config, presets and the study)
    defaults: ClassVar[dict[str, Any]] = AugmentHparams.defaults()
    requires_labels: ClassVar[bool] = False
    # nets (names from ``nets()``) of which the Trainer keeps an exponential moving average
    ema_nets: ClassVar[tuple[str, ...]] = ("G",)
    # train.* defaults the paper prescribes (e.g. a learning-rate schedule); overrides still win
    train_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, info: DataInfo, **hparams: Any) -> None:
        super().__init__()
        self.info = info
        self.hp = self.Hparams.from_config(self.name, hparams)
        if self.requires_labels and not info.labelled:
            raise DataError(
                f"recipe {self.name!r} needs labelled data, but {info.name!r} has no labels: "
                "use a labelled dataset such as digits"
            )
        self.ema = nn.ModuleDict()
        # what D sees goes through this (identity unless model.augment is set)
        if getattr(self.hp, "augment", "none") != "none" and info.kind != "image":
            raise ConfigError(
                f"model.augment={self.hp.augment} augments images, but {info.name!r} holds "
                f"{info.kind}s: drop model.augment (or train on image data)"
            )
        self.augmenter = make_augmenter(self.hp)
        self.trained_steps = 0  # set by the loaders (checkpoint step), for reports and eval
        self.config: Any = None  # the run's resolved config, set by ganarium.runs.load_recipe
        self.build(info)

    # -- configuration -------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "defaults" in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__}: declare hyper-parameters as fields of a nested Hparams "
                "dataclass (ganarium.hparams), not a defaults dict"
            )
        cls.defaults = cls.Hparams.defaults()

    @classmethod
    def resolve_hparams(cls, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` model.* options over the defaults, validated, as a dict."""
        return cls.Hparams.from_config(cls.name, given).to_dict()

    @classmethod
    def describe_hparams(cls) -> dict[str, str]:
        """Every hyper-parameter's one-line meaning."""
        return {k: spec.help for k, spec in cls.Hparams.specs().items()}

    # -- to override ---------------------------------------------------------------------
    def build(self, info: DataInfo) -> None:
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def batch_size_at(self, step: int, images_seen: int) -> int | None:
        """The global batch of the step about to run, where the recipe sets it (ProGAN's batch
        per level); None: ``train.batch_size``. A pure function of its arguments, so that a
        resumed run and the run's length in images (``train.kimg``) agree with it."""
        return None

    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples in the data's range and shape. Conditional recipes cycle labels 0..K-1 by
        default."""
        raise NotImplementedError

    def capabilities(self) -> Capabilities:
        """What this recipe offers besides ``generate(n)``: read from the capability mixins it
        inherits (ganarium.capabilities)."""
        return Capabilities.of(self)

    def nets(self) -> dict[str, nn.Module]:
        """The trained networks by name (EMA, parameter counts and, later, DDP wrapping read
        this): by default every direct child module that has parameters, the Trainer's EMA
        copies excluded. A recipe holding a net it does not train (a mean teacher) overrides it."""
        return {
            name: m
            for name, m in self.named_children()
            if name != "ema" and next(m.parameters(), None) is not None
        }

    def extra_state(self) -> dict[str, Any]:
        """Training state that is not in ``state_dict()`` (label memories, running averages),
        as tensors, numbers, strings, lists and dicts, so checkpoints carry it."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what ``extra_state()`` returned."""

    def learning_state(self) -> dict[str, float]:
        """Scalars a recipe wants logged besides its losses (e.g. BEGAN's k_t)."""
        return {}

    def logged_state(self) -> dict[str, float]:
        """What the Trainer logs each interval: the augmenter's state (ADA's p and r_t, for any
        recipe trained with ``augment=ada``) and the recipe's ``learning_state()``."""
        return {**self.augmenter.learning_state(), **self.learning_state()}

    def preview(self, n: int, examples: Batch | None = None) -> Preview | None:
        """The periodic sample grid: ``n`` samples, or ``None`` for data that is no image.
        ``examples`` is a fixed batch of training data, for recipes that need inputs
        (translators show input | output | target). Called under a fixed seed."""
        if self.info.kind != "image":
            return None
        return Preview(self.generate(n).float().cpu(), max(1, int(math.sqrt(n))))

    # -- capabilities ------------------------------------------------------------------------
    def require(self, capability: str, flag: str | None = None) -> None:
        """Raise one line unless ``capabilities()`` offers ``capability``."""
        caps = self.capabilities()
        if not getattr(caps, capability):
            offered = ", ".join(caps.offered()) or "plain sampling only"
            fix = f": drop {flag}" if flag else ""
            raise CapabilityError(
                f"recipe {self.name!r} does not offer {capability.replace('_', ' ')} "
                f"(it offers: {offered}){fix}"
            )

    # -- helpers shared by recipes ---------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def net_for_sampling(self, name: str = "G") -> nn.Module:
        """The EMA copy of a net when the Trainer keeps one, else the net itself."""
        return self.ema[name] if name in self.ema else self.nets()[name]

    def enable_ema(self) -> None:
        nets = self.nets()
        for name in self.ema_nets:
            if name not in nets:
                raise ValueError(f"{self.name}: ema_nets names {name!r}, which nets() lacks")
            if name not in self.ema:
                shadow = copy.deepcopy(nets[name])
                shadow.requires_grad_(False)
                self.ema[name] = shadow

    def update_ema(self, decay: float) -> None:
        """Move each EMA copy towards its net (``ema_update``)."""
        nets = self.nets()
        for name, shadow in self.ema.items():
            ema_update(shadow, nets[name], decay)

    def default_labels(self, n: int) -> Tensor | None:
        if not self.info.labelled:
            return None
        return torch.arange(n, device=self.device) % self.info.num_classes

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of each net in ``nets()``."""
        return {k: sum(p.numel() for p in m.parameters()) for k, m in self.nets().items()}


@contextlib.contextmanager
def eval_mode(*nets: nn.Module) -> Iterator[None]:
    """Put ``nets`` in eval mode for the block and restore each one's own training flag after
    (sampling with batch-norm statistics and without dropout, from inside a training step)."""
    was = [net.training for net in nets]
    try:
        for net in nets:
            net.eval()
        yield
    finally:
        for net, flag in zip(nets, was):
            net.train(flag)


@torch.no_grad()
def generate_batched(
    recipe: Recipe, n: int, batch_size: int = 500, progress: bool = False, **kwargs: Any
) -> Tensor:
    """``n`` samples on the CPU, ``batch_size`` per ``recipe.generate`` call; tensor keyword
    arguments (labels, z) are sliced per batch, others passed as they are."""
    out = []
    for i in tqdm(range(0, n, batch_size), desc="sampling", disable=not progress, leave=False):
        m = min(batch_size, n - i)
        kw = {k: (v[i : i + m] if isinstance(v, Tensor) else v) for k, v in kwargs.items()}
        out.append(recipe.generate(m, **kw).float().cpu())
    return torch.cat(out)
