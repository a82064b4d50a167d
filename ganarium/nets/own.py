"""Users' own nets in a recipe: ``model.net=my_pkg.my_module:make`` or nets handed from Python.

A factory ``make(info, **options) -> {"G": module, "D": module}`` gets the DataInfo the nets
are for and the recipe's net options (``z_dim``, ``g_width``, ``conditional``, ...). What the
nets must offer is the recipe's ``NetContract``, checked on a tiny batch before training.

Naming code to import is a request to run it. Building a recipe from a run folder's config
(resume, sample, eval, export, report, ``ganarium.load``) imports it only with the user's
consent (``--trust-code`` / ``trust_code=True``); ``consent(...)`` is that one gate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.errors import ConfigError

GIVEN_PREFIX = "python:"  # model.net of a run whose nets were handed over from Python
NetFactory = Callable[..., Mapping[str, nn.Module]]
GivenNets = Mapping[str, nn.Module] | NetFactory


class CodeNotTrusted(ConfigError):
    """A run's config names code to import and the user did not consent to running it."""


@dataclasses.dataclass(frozen=True)
class NetContract:
    """What a recipe needs of its own nets, besides ``G(z, y=None) -> (B, *info.shape)`` and
    ``D(x, y=None) -> (B,)`` logits: attributes of G and D, and ``D.features(x)`` -> (B, F)
    with ``D.feature_dim`` where the recipe adds heads."""

    g_attrs: tuple[str, ...] = ("z_dim",)
    d_attrs: tuple[str, ...] = ()
    d_features: bool = False


@dataclasses.dataclass
class _Session:
    recipe: str
    trusted: bool
    given: GivenNets | None = None
    used: bool = False


_SESSION: ContextVar[_Session | None] = ContextVar("ganarium_own_nets", default=None)


def is_own(net: Any) -> bool:
    """Whether a ``model.net`` value names own nets (``module:factory`` or given from Python)."""
    return isinstance(net, str) and ":" in net


def module_of(spec: str) -> str:
    return spec.split(":", 1)[0]


def spec_of(nets: GivenNets) -> str:
    """What ``model.net`` records for nets given from Python: a factory importable by name is
    recorded as ``module:name`` (so a run can be resumed from the CLI with --trust-code);
    anything else as ``python:...``, which must be handed over again to load the run."""
    if callable(nets) and not isinstance(nets, nn.Module):
        mod, name = getattr(nets, "__module__", ""), getattr(nets, "__qualname__", "")
        if mod and mod != "__main__" and "<" not in name:
            return f"{mod}:{name}"
        return f"{GIVEN_PREFIX}{name or 'factory'}"
    return GIVEN_PREFIX + "+".join(type(v).__name__ for v in nets.values())


def code_to_import(model: Mapping[str, Any]) -> str | None:
    """The module a recipe's ``model.*`` options would import, or None."""
    net = model.get("net")
    if is_own(net) and not net.startswith(GIVEN_PREFIX):
        return module_of(net)
    return None


def check_consent(
    model: Mapping[str, Any],
    trusted: bool,
    given: GivenNets | None = None,
    source: str = "this run",
) -> None:
    """Refuse in one line (exit 2 at the CLI) a config whose ``model.*`` options name code to
    import without the user's consent, or that needs nets handed over from Python again."""
    module = code_to_import(model)
    if module is not None and not trusted and given is None:
        raise CodeNotTrusted(
            f"{source} names code to import: module {module} (model.net={model['net']}); "
            "pass --trust-code (Python: trust_code=True) if you trust it"
        )
    net = model.get("net")
    if given is None and isinstance(net, str) and net.startswith(GIVEN_PREFIX):
        raise ConfigError(
            f"{source} was trained with nets handed over from Python (model.net={net}): "
            "pass them again, e.g. ganarium.runs.load_recipe(run, nets={'G': G, 'D': D})"
        )


@contextlib.contextmanager
def consent(
    recipe: str,
    model: Mapping[str, Any],
    trusted: bool,
    given: GivenNets | None = None,
    source: str = "this run",
) -> Iterator[None]:
    """Build recipe ``recipe`` from ``model.*`` inside this block: refuses up front (exit 2 at
    the CLI) when the options name code to import and ``trusted`` is false, and afterwards when
    own nets were named but the recipe never took them (it builds its nets itself)."""
    check_consent(model, trusted, given, source)
    net = model.get("net")
    session = _Session(recipe, trusted, given)
    token = _SESSION.set(session)
    try:
        yield
    finally:
        _SESSION.reset(token)
    if (is_own(net) or given is not None) and not session.used:
        raise ConfigError(
            f"recipe {recipe!r} builds its nets itself with these options: it does not take "
            f"own nets (model.net={net}); use a recipe built on AdversarialRecipe, e.g. dcgan"
        )


def refuse_family(name: str) -> None:
    """Raised where a recipe looks an own-net name up as a net family: it builds its own."""
    session = _SESSION.get()
    who = f"recipe {session.recipe!r}" if session else "this recipe"
    raise ConfigError(
        f"{who} builds its nets from a family, so it does not take own nets "
        f"(model.net={name}); use a recipe built on AdversarialRecipe, e.g. dcgan"
    )


def load_factory(spec: str) -> NetFactory:
    """Import ``module:factory`` (dots in the factory name reach nested attributes)."""
    module, _, attr = spec.partition(":")
    session = _SESSION.get()
    if session is not None and not session.trusted:
        raise CodeNotTrusted(
            f"this run names code to import: module {module} (model.net={spec}); "
            "pass --trust-code (Python: trust_code=True) if you trust it"
        )
    if not module or not attr:
        raise ConfigError(f"model.net={spec}: write it as package.module:factory")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(
            f"model.net={spec}: cannot import {module} ({e}); put its folder on PYTHONPATH"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"model.net={spec}: module {module} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"model.net={spec}: {attr} is not callable")
    return obj


def build_own_nets(
    spec: str,
    info: DataInfo,
    options: dict[str, Any],
    contract: NetContract,
    recipe: str,
) -> dict[str, nn.Module]:
    """The recipe's G and D from ``spec`` (or the nets given from Python), contract-checked."""
    session = _SESSION.get()
    given = session.given if session is not None else None
    if given is not None:
        nets = given(info, **options) if callable(given) else dict(given)
    else:
        nets = load_factory(spec)(info, **options)
    if session is not None:
        session.used = True
    check_contract(spec, nets, info, contract, recipe)
    return dict(nets)


def _shape(t: Any) -> str:
    return str(tuple(t.shape)) if isinstance(t, torch.Tensor) else type(t).__name__


def _call(spec: str, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as e:  # the user's code: any failure is reported as one line
        raise ConfigError(
            f"model.net={spec}: {what} failed: {type(e).__name__}: {str(e).splitlines()[0]}"
        ) from None


def check_contract(
    spec: str, nets: Any, info: DataInfo, contract: NetContract, recipe: str, n: int = 4
) -> None:
    """One line naming what ``nets`` lack for ``recipe``, checked on a batch of ``n``."""
    head = f"model.net={spec}"
    if not isinstance(nets, Mapping) or set(nets) != {"G", "D"}:
        got = sorted(nets) if isinstance(nets, Mapping) else type(nets).__name__
        raise ConfigError(f"{head}: recipe {recipe!r} needs {{'G': ..., 'D': ...}}, got {got}")
    for name in ("G", "D"):
        if not isinstance(nets[name], nn.Module):
            raise ConfigError(f"{head}: {name} is a {type(nets[name]).__name__}, not an nn.Module")
    G, D = nets["G"], nets["D"]
    for name, net, attrs in (("G", G, contract.g_attrs), ("D", D, contract.d_attrs)):
        missing = [a for a in attrs if not hasattr(net, a)]
        if missing:
            raise ConfigError(
                f"{head}: {name} has no {', '.join(missing)}, recipe {recipe!r} needs it"
            )
    if contract.d_features and not (hasattr(D, "features") and hasattr(D, "feature_dim")):
        raise ConfigError(
            f"{head}: D has no features(x) / feature_dim, recipe {recipe!r} needs them"
        )
    params = [p for net in (G, D) for p in net.parameters()]
    device = params[0].device if params else torch.device("cpu")
    if device.type == "meta":
        return
    y = torch.arange(n, device=device) % info.num_classes if info.num_classes else None
    modes = {net: net.training for net in (G, D)}
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        try:
            for net in modes:
                net.eval()
            z = torch.randn(n, int(G.z_dim), device=device)
            fake = _call(spec, "G(z, y)", lambda: G(z, y))
            if not isinstance(fake, torch.Tensor) or tuple(fake.shape) != (n, *info.shape):
                raise ConfigError(
                    f"{head}: G returns shape {_shape(fake)}, recipe {recipe!r} needs "
                    f"{(n, *info.shape)} (B, *data shape)"
                )
            logits = _call(spec, "D(x, y)", lambda: D(fake, y))
            if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (n,):
                raise ConfigError(
                    f"{head}: D returns shape {_shape(logits)}, recipe {recipe!r} needs (B,) logits"
                )
            if contract.d_features:
                h = _call(spec, "D.features(x)", lambda: D.features(fake))
                if not isinstance(h, torch.Tensor) or tuple(h.shape) != (n, D.feature_dim):
                    raise ConfigError(
                        f"{head}: D.features returns shape {_shape(h)}, recipe {recipe!r} "
                        f"needs (B, feature_dim={D.feature_dim})"
                    )
        finally:
            for net, mode in modes.items():
                net.train(mode)
