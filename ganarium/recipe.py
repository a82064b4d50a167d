"""The recipe contract: what every GAN recipe is to the Trainer, the CLI, the checks and the report.

A recipe is an ``nn.Module`` holding its nets. It says how one training step goes as a list of
named phases (``Phase``): a loss to minimise with one optimizer, run every ``every`` steps and
repeated ``repeat`` times (n_critic). Each phase's loss and ``after`` hook get a ``StepContext``:
where training is (step, images seen) and what earlier phases of the same step drew or left.

Everything a recipe offers besides ``generate(n)`` is declared once in ``capabilities()``
(conditional sampling, a latent, truncation, codes, encoding, editing, a classifier,
translation, progress signals); callers read that declaration and call the matching method,
which raises one clear line on recipes that do not offer it. Nothing outside a recipe probes it
with ``hasattr`` or signatures.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ganarium.augment import AUGMENT_DEFAULTS, AUGMENT_HELP, make_augmenter
from ganarium.data import DataInfo
from ganarium.errors import ConfigError, DataError, GanariumError, suggest

Batch = dict[str, Tensor]
StepOutput = tuple[Tensor, dict[str, Tensor]]


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# Ranges every recipe's hyper-parameters obey, by name: (pattern, test, the rule in words).
# Recipes check their own special cases (e.g. Triple-GAN's alpha) in build().
HPARAM_RULES: list[tuple[str, Callable[[Any], bool], str]] = [
    (r"^lr(_\w+)?$", lambda v: _finite(v) and v > 0, "a learning rate must be > 0 (e.g. 2e-4)"),
    (r"_weight$", lambda v: _finite(v) and v >= 0, "a weight must be >= 0 (0 switches it off)"),
    (
        r"(_prob|_decay|_smoothing|^ada_p|^ada_target)$",
        lambda v: _finite(v) and 0 <= v <= 1,
        "a probability / decay must be in [0, 1]",
    ),
    (
        r"(_width|_dim)$",
        lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        "a width or size must be a whole number >= 1",
    ),
    (r"^n_critic$", lambda v: isinstance(v, int) and v >= 1, "D steps per G step must be >= 1"),
    (
        r"^betas$",
        lambda v: len(v) == 2 and all(_finite(b) and 0 <= b < 1 for b in v),
        "Adam's betas must be two numbers in [0, 1)",
    ),
    (r"^clip$", lambda v: _finite(v) and v > 0, "the clipping bound must be > 0"),
]


def check_hparam_ranges(recipe: str, hparams: dict[str, Any]) -> None:
    """Refuse, in one line, a hyper-parameter outside the range its name implies."""
    for key, value in hparams.items():
        for pattern, ok, rule in HPARAM_RULES:
            if re.search(pattern, key):
                try:
                    good = ok(value)
                except TypeError:
                    good = False
                if not good:
                    raise ConfigError(
                        f"model.{key}={value!r} is out of range for recipe {recipe!r}: {rule}"
                    )
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"model.{key}={value!r} must be a finite number")


@dataclass
class StepContext:
    """Where training is, handed to every phase loss and ``after`` hook of one step.

    ``step`` is the index of this generator iteration (0 for the first), ``total_steps`` the
    planned ``train.steps``, ``images_seen`` the real images shown before this step (the
    batches of phases with ``real=True``; see ``Phase``).
    ``batches`` holds the batches drawn so far in this step, by phase name (the last repeat's);
    ``shared`` holds values a phase leaves for later phases of the same step (e.g. fakes).
    """

    step: int
    total_steps: int
    images_seen: int = 0
    repeat: int = 0
    batches: dict[str, Batch] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

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
    batch only for its shape and labels, as most G phases do.
    """

    name: str
    loss: Callable[[Batch, StepContext], StepOutput]
    optimizer: str
    every: int = 1
    repeat: int = 1
    after: Callable[[StepContext], None] | None = None
    batch: str | None = None
    real: bool = True


@dataclass(frozen=True)
class Capabilities:
    """What a recipe offers besides ``generate(n)``, declared by ``Recipe.capabilities()``.

    conditional: ``generate(n, labels=)`` draws the requested classes.
    latent_dim: size of the noise ``z`` that ``generate(n, z=)`` and ``decode(z)`` take (0: none).
    truncation: ``generate(n, truncation=)`` applies a truncation trick.
    codes: names of the latent codes ``code_traversal(code)`` draws grids for (InfoGAN).
    encode: ``encode(x)`` and ``reconstruct(x)`` map real images to latents and back.
    edit: ``edit(x, label)`` re-generates real images with another label.
    classifier: ``classifier()`` is a trained K-class classifier (``make_classifier()`` a fresh
        one of the same architecture, ``classifier_optimizer(params)`` how it is optimised).
    translate: directions ``translate(x, direction)`` supports, e.g. ("AtoB", "BtoA"); empty:
        not a translator. Translators take images of any size (they pad and crop themselves).
    instance_masks: ``translate(x, direction, masks=)`` takes instance masks (N, K, H, W) in
        {0, 1} and translates only those instances (InstaGAN).
    mixing: ``style_mixing(rows, cols)`` draws a style-mixing grid (StyleGAN).
    captions: ``generate_from_captions(texts)`` draws images for text (StackGAN);
        ``caption_vocabulary()`` lists the words it knows.
    instances: ``generate_from_instances(images, n)`` draws samples conditioned on each real
        image's instance features (IC-GAN).
    canvas: ``canvas_steps(n)`` shows the canvas after each of its drawing steps (DRAW).
    signals: ``learning_state()`` keys that measure progress, charted first in the report.

    Any recipe with a latent also offers ``interpolate(steps)``, a walk between two latents.
    """

    conditional: bool = False
    latent_dim: int = 0
    truncation: bool = False
    codes: tuple[str, ...] = ()
    encode: bool = False
    edit: bool = False
    classifier: bool = False
    translate: tuple[str, ...] = ()
    instance_masks: bool = False
    mixing: bool = False
    captions: bool = False
    instances: bool = False
    canvas: bool = False
    signals: tuple[str, ...] = ()

    def offered(self) -> list[str]:
        """The names of what is offered, for messages and ``ganarium info``."""
        return [f.name for f in fields(self) if getattr(self, f.name)]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class CapabilityError(GanariumError):
    """A recipe was asked for something its ``capabilities()`` do not offer."""


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
    # every recipe accepts the augmentation switch; subclasses spread a parent's defaults
    defaults: ClassVar[dict[str, Any]] = dict(AUGMENT_DEFAULTS)
    # one line of meaning per hyper-parameter a class adds (``ganarium info`` prints them)
    hparam_help: ClassVar[dict[str, str]] = dict(AUGMENT_HELP)
    requires_labels: ClassVar[bool] = False
    # nets (names from ``nets()``) of which the Trainer keeps an exponential moving average
    ema_nets: ClassVar[tuple[str, ...]] = ("G",)
    # train.* defaults the paper prescribes (e.g. a learning-rate schedule); overrides still win
    train_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, info: DataInfo, **hparams: Any) -> None:
        super().__init__()
        self.info = info
        self.hp = SimpleNamespace(**self.resolve_hparams(hparams))
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
    @classmethod
    def resolve_hparams(cls, given: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in given if k not in cls.defaults]
        if unknown:
            k = unknown[0]
            raise ConfigError(
                f"recipe {cls.name!r} has no hyper-parameter {k!r}.{suggest(k, cls.defaults)} "
                f"Known: {', '.join(sorted(cls.defaults))}"
            )
        resolved = {**copy.deepcopy(cls.defaults), **given}
        check_hparam_ranges(cls.name, resolved)
        return resolved

    @classmethod
    def describe_hparams(cls) -> dict[str, str]:
        """Every hyper-parameter's one-line meaning, from this class and its parents."""
        out: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            out.update(getattr(klass, "hparam_help", {}))
        return {k: out.get(k, "") for k in cls.defaults}

    # -- to override ---------------------------------------------------------------------
    def build(self, info: DataInfo) -> None:
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples in the data's range and shape. Conditional recipes cycle labels 0..K-1 by
        default."""
        raise NotImplementedError

    def capabilities(self) -> Capabilities:
        """What this recipe offers besides ``generate(n)``; nothing by default."""
        return Capabilities()

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

    # -- offered through capabilities (each refuses when not declared) ------------------------
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

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The sampling generator as a differentiable function of its latent (for inversion)."""
        self.require("latent_dim")
        raise NotImplementedError

    def code_traversal(self, code: str, steps: int = 10) -> tuple[Tensor, int]:
        self.require("codes", "--vary-code")
        raise NotImplementedError

    def encode(self, x: Tensor) -> Any:
        self.require("encode")
        raise NotImplementedError

    def reconstruct(self, x: Tensor) -> Tensor:
        self.require("encode")
        raise NotImplementedError

    def edit(self, x: Tensor, label: int | Tensor) -> Tensor:
        self.require("edit")
        raise NotImplementedError

    def classifier(self) -> nn.Module:
        self.require("classifier")
        raise NotImplementedError

    def make_classifier(self) -> nn.Module:
        self.require("classifier")
        raise NotImplementedError

    def classifier_optimizer(self, params) -> torch.optim.Optimizer:
        self.require("classifier")
        raise NotImplementedError

    def translate(self, x: Tensor, direction: str = "AtoB") -> Tensor:
        """Images (B, C, H, W) of the direction's source domain, in [-1, 1] -> translations."""
        self.require("translate")
        raise NotImplementedError

    def style_mixing(self, rows: int = 4, cols: int = 4) -> tuple[Tensor, int]:
        """A (rows+1) x (cols+1) grid: the first row and column are the sources, each cell takes
        its row's coarse styles and its column's fine styles. Returns (images, nrow)."""
        self.require("mixing", "--mix")
        raise NotImplementedError

    def caption_vocabulary(self) -> list[str]:
        self.require("captions", "--caption")
        raise NotImplementedError

    def generate_from_captions(self, captions: list[str]) -> Tensor:
        """One image per caption; unknown words raise one line listing the vocabulary."""
        self.require("captions", "--caption")
        raise NotImplementedError

    def generate_from_instances(self, images: Tensor, n: int) -> Tensor:
        """n samples per conditioning image (B, C, H, W) -> (B * n, ...), grouped by image."""
        self.require("instances", "--instance")
        raise NotImplementedError

    def canvas_steps(self, n: int) -> tuple[Tensor, int]:
        """n samples drawn step by step: (n * T images, T), each row one sample's canvas."""
        self.require("canvas", "--steps")
        raise NotImplementedError

    def interpolate(self, steps: int = 8, seeds: tuple[int, int] = (0, 1)) -> Tensor:
        """``steps`` samples along the spherical path between two latents drawn from ``seeds``
        (``decode`` at each point); recipes with a better space (StyleGAN's W) override it."""
        z_dim = self.capabilities().latent_dim
        if not z_dim:
            self.require("latent_dim", "--interpolate")
        a, b = (torch.randn(1, z_dim, generator=torch.Generator().manual_seed(s)) for s in seeds)
        t = torch.linspace(0, 1, steps)[:, None]
        with torch.no_grad():
            return self.decode(slerp(a, b, t).to(self.device))

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


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between latents a and b (1, D) at fractions t (T, 1) -> (T, D);
    linear when they are (nearly) parallel."""
    cos = torch.nn.functional.cosine_similarity(a, b).clamp(-1, 1)
    omega = torch.acos(cos)
    if float(omega) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


@torch.no_grad()
def ema_update(shadow: nn.Module, net: nn.Module, decay: float) -> None:
    """shadow <- decay * shadow + (1 - decay) * net, parameter by parameter; buffers (BN
    statistics) are copied."""
    for p_s, p in zip(shadow.parameters(), net.parameters()):
        p_s.lerp_(p.detach(), 1.0 - decay)
    for b_s, b in zip(shadow.buffers(), net.buffers()):
        b_s.copy_(b)


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
