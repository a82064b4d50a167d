"""The standard FID Inception (the TF 2015-12-05 graph, Szegedy et al. 2016, as ported by
torch-fidelity) behind ``fid[inception]``, ``kid[inception]`` and ``is[inception]``, the feature
extractor interface every feature metric reads, and a cross-check against torch-fidelity.

Weights, in this order: the ``weights_path`` argument (``--inception-weights``), the
``GANARIUM_INCEPTION_WEIGHTS`` variable, torch-fidelity's file already in the torch hub cache,
else torch-fidelity's own download (unless ``GANARIUM_NO_DOWNLOAD`` is set, as in the tests).
A local file is read with ``torch.load(weights_only=True)`` and its layout checked before
torch-fidelity loads it, because torch-fidelity itself unpickles it without that guard.

Our FID/KID/IS come from ganarium's own math (fid.py, kid.py, inception_score.py) on these
features; ``fidelity_metrics`` / ``cross_check`` ask torch-fidelity for the same numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from ganarium.errors import GanariumError
from ganarium.metrics.extractors import Extractor, FidelityExtractor, to_uint8_rgb

WEIGHTS_ENV = "GANARIUM_INCEPTION_WEIGHTS"
NO_DOWNLOAD_ENV = "GANARIUM_NO_DOWNLOAD"
INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"  # pytorch-fid's name for the file
FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's download
FIDELITY_NAME = "inception-v3-compat"
FEATURE_LAYER, LOGIT_LAYER = "2048", "logits_unbiased"
HINT = (
    f"pass --inception-weights PATH (the file {INCEPTION_FILE} or {FIDELITY_FILE}) "
    f"or set {WEIGHTS_ENV}=PATH"
)


@runtime_checkable
class FeatureExtractor(Protocol):
    """What every feature metric reads. ``name`` labels results (``fid[name]``); images are
    (N, C, H, W) floats in [-1, 1]; ``logits`` exists only where ``has_logits`` is true.
    Subclasses of ``ganarium.metrics.extractors.Extractor`` also declare ``cache_id`` and may
    give features and logits in one pass (``features_and_logits``)."""

    name: str
    has_logits: bool

    def features(self, images: torch.Tensor) -> torch.Tensor: ...  # (N, F)

    def logits(self, images: torch.Tensor) -> torch.Tensor: ...  # (N, K)


def features_and_logits(
    ex: FeatureExtractor, images: torch.Tensor, logits: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features and (when asked) logits, in one network pass where the extractor offers it."""
    if isinstance(ex, Extractor):
        return ex.features_and_logits(images, logits)
    return ex.features(images), (ex.logits(images) if logits else None)


class InceptionExtractor(FidelityExtractor):
    """A torch-fidelity network that returns pool3 features and logits from one forward pass
    (Inception runs at ~2 images/s on one CPU core, so a second pass for IS would double it)."""

    def __init__(
        self,
        net: Any,
        name: str = "inception",
        device: str = "cpu",
        cache_id: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(net, name, device=device, **kw)
        self._cache_id = cache_id or name

    @property
    def cache_id(self) -> str:
        """The name and the weights file, so the cache of reference features does not mix
        weights."""
        return self._cache_id

    @torch.no_grad()
    def features_and_logits(
        self, images: torch.Tensor, logits: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not logits:
            return self.features(images), None
        f_at, l_at = self.order.index(self.feature_layer), self.order.index(self.logit_layer)
        feats, logits = [], []
        for i in range(0, len(images), 100):
            out = self.net(to_uint8_rgb(images[i : i + 100]).to(self.device))
            feats.append(out[f_at].double().cpu())
            logits.append(out[l_at].double().cpu())
        return torch.cat(feats), torch.cat(logits)


def find_inception_weights(weights_path: str | None = None) -> str | None:
    """The local weights file to use, or None when torch-fidelity should download it."""
    if weights_path:
        return weights_path
    if os.environ.get(WEIGHTS_ENV):
        return os.environ[WEIGHTS_ENV]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / FIDELITY_FILE
    return str(cached) if cached.is_file() else None


def check_inception_weights(path: str) -> str:
    """``path`` if it is a plain tensor file with the FID Inception layout, else a one-line
    GanariumError saying what is wrong and how to fix it."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise GanariumError(f"Inception weights file {p} does not exist: {HINT}")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - whatever failed, we will not unpickle it unsafely
        first = (str(e).splitlines() or [type(e).__name__])[0][:120]
        raise GanariumError(
            f"refusing Inception weights {p}: not a plain tensor file ({first})"
        ) from None
    fc = state.get("fc.weight") if isinstance(state, dict) else None
    if (
        fc is None
        or tuple(fc.shape) != (1008, 2048)
        or "Mixed_7c.branch_pool.conv.weight" not in state
    ):
        raise GanariumError(f"{p} is not the FID Inception (TF 2015-12-05) state dict: {HINT}")
    return str(p)


def inception_extractor(weights_path: str | None = None, device: str = "cpu") -> InceptionExtractor:
    """The FID Inception through torch-fidelity (features '2048', logits 'logits_unbiased').

    Raises a one-line GanariumError naming ``--inception-weights`` and the environment variable
    when no weights can be found, read or downloaded.
    """
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise GanariumError(
            "Inception metrics need torch-fidelity: pip install 'ganarium[eval]'"
        ) from None
    path = find_inception_weights(weights_path)
    if path is None and os.environ.get(NO_DOWNLOAD_ENV):
        raise GanariumError(f"no Inception weights and downloads are disabled: {HINT}")
    if path is not None:
        path = check_inception_weights(path)
    try:
        net = FeatureExtractorInceptionV3(
            FIDELITY_NAME, [FEATURE_LAYER, LOGIT_LAYER], feature_extractor_weights_path=path
        )
    except (OSError, RuntimeError) as e:  # URLError is an OSError; a bad state dict RuntimeError
        first = (str(e).splitlines() or [type(e).__name__])[0][:120]
        what = "load" if path else "download"
        raise GanariumError(f"could not {what} the Inception weights ({first}): {HINT}") from None
    # the cache of reference features must not mix weights files
    cache_id = f"inception:{Path(path).name}:{Path(path).stat().st_size}" if path else "inception"
    return InceptionExtractor(net, "inception", device=device, cache_id=cache_id)


# -- torch-fidelity's own numbers, for cross-checking ---------------------------------------


def register_fidelity_extractor(name: str, cls: type) -> None:
    """Register a torch-fidelity ``FeatureExtractorBase`` subclass once (repeat calls are fine)."""
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

    if FEATURE_EXTRACTORS_REGISTRY.get(name) is not cls:
        FEATURE_EXTRACTORS_REGISTRY.pop(name, None)
        register_feature_extractor(name, cls)


class _Uint8Images(torch.utils.data.Dataset):
    """Our [-1, 1] float images as the uint8 RGB samples torch-fidelity reads."""

    def __init__(self, images: torch.Tensor) -> None:
        self.x = to_uint8_rgb(images)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.x[i]


def _count(source: str | torch.Tensor) -> int:
    if isinstance(source, torch.Tensor):
        return len(source)
    # torch-fidelity's defaults: top level only, png/jpg/jpeg
    return sum(1 for p in Path(source).iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})


def fidelity_metrics(
    real: str | torch.Tensor,
    fake: str | torch.Tensor,
    metrics: list[str],
    feature_extractor: str = FIDELITY_NAME,
    weights_path: str | None = None,
    feature_layer: str | None = None,
    logit_layer: str | None = None,
    label: str = "inception",
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    device: str = "cpu",
) -> dict[str, float]:
    """FID/KID/IS computed by ``torch_fidelity.calculate_metrics`` on two folders or two [-1, 1]
    image tensors, keyed ``fid[label|torch-fidelity]`` etc. IS is of ``fake``.

    Settings follow ours so the numbers are comparable: no shuffling, no disk cache, the KID
    subset clipped to the smaller set (equal sets then give identical KID, whatever the RNG).
    """
    import torch_fidelity

    kwargs: dict[str, Any] = {}
    if feature_extractor == FIDELITY_NAME:
        path = find_inception_weights(weights_path)
        if path is None and os.environ.get(NO_DOWNLOAD_ENV):
            raise GanariumError(f"no Inception weights and downloads are disabled: {HINT}")
        if path is not None:
            kwargs["feature_extractor_weights_path"] = check_inception_weights(path)
    for m, layer in (("fid", feature_layer), ("kid", feature_layer), ("isc", logit_layer)):
        if layer is not None:
            kwargs[f"feature_layer_{m}"] = layer
    inputs = [s if isinstance(s, str) else _Uint8Images(s) for s in (fake, real)]
    res = torch_fidelity.calculate_metrics(
        input1=inputs[0],
        input2=inputs[1],
        fid="fid" in metrics,
        kid="kid" in metrics,
        isc="is" in metrics,
        feature_extractor=feature_extractor,
        kid_subsets=kid_subsets,
        kid_subset_size=min(kid_subset_size, _count(real), _count(fake)),
        samples_shuffle=False,
        cache=False,
        save_cpu_ram=True,  # no worker processes
        verbose=False,
        cuda=str(device).startswith("cuda"),
        **kwargs,
    )
    names = {
        "frechet_inception_distance": "fid",
        "kernel_inception_distance_mean": "kid",
        "kernel_inception_distance_std": "kid_std",
        "inception_score_mean": "is",
        "inception_score_std": "is_std",
    }
    return {f"{names[k]}[{label}|torch-fidelity]": float(v) for k, v in res.items() if k in names}


def cross_check(
    real: torch.Tensor,
    fake: torch.Tensor,
    metrics: tuple[str, ...] = ("fid", "kid", "is"),
    feature_extractor: str = FIDELITY_NAME,
    feature_layer: str = FEATURE_LAYER,
    logit_layer: str = LOGIT_LAYER,
    weights_path: str | None = None,
    is_splits: int = 10,
) -> dict[str, tuple[float, float]]:
    """{metric: (ours, torch-fidelity's)} with the same registered extractor on both sides.

    They agree to float round-off when ``len(fake)`` is a multiple of ``is_splits`` (the two
    split remainders differently) and KID uses whole sets (as here).
    """
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    from ganarium.metrics.fid import fid_from_features
    from ganarium.metrics.inception_score import inception_score
    from ganarium.metrics.kid import kernel_inception_distance

    if feature_extractor == FIDELITY_NAME:
        ours: FidelityExtractor = inception_extractor(weights_path)
    else:
        cls = FEATURE_EXTRACTORS_REGISTRY[feature_extractor]
        net = cls(feature_extractor, [feature_layer, logit_layer])
        ours = InceptionExtractor(
            net, feature_extractor, feature_layer=feature_layer, logit_layer=logit_layer
        )
    f_real = ours.features(real)
    f_fake, l_fake = features_and_logits(ours, fake, logits="is" in metrics)
    m = min(len(real), len(fake))
    mine: dict[str, float] = {}
    if "fid" in metrics:
        mine["fid"] = fid_from_features(f_real, f_fake)
    if "kid" in metrics:
        mine["kid"] = kernel_inception_distance(f_real, f_fake, subsets=3, subset_size=m)[0]
    if "is" in metrics:
        mine["is"] = inception_score(l_fake, splits=is_splits)[0]
    theirs = fidelity_metrics(
        real,
        fake,
        list(metrics),
        feature_extractor,
        weights_path,
        feature_layer,
        logit_layer,
        label="x",
        kid_subsets=3,
        kid_subset_size=m,
    )
    return {k: (v, theirs[f"{k}[x|torch-fidelity]"]) for k, v in mine.items()}
