"""Feature extractors behind every feature-space metric, with one interface:

    extractor.name                       -> how results are labelled, e.g. "fid[digit-classifier]"
    extractor.features(images) -> (N, F) images (N, C, H, W) float in [-1, 1]
    extractor.logits(images) -> (N, K) or raise, for the Inception Score

``inception`` is the standard network through torch-fidelity (numbers comparable with papers);
``digit-classifier`` is the project's own offline network; ``pixels`` flattens raw values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ganarium.errors import GanariumError
from ganarium.registry import Registry

EXTRACTORS: Registry = Registry("feature extractor")
WEIGHTS_ENV = "GANARIUM_INCEPTION_WEIGHTS"
INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
BATCH = 100


class Extractor:
    """Base of the extractors: each declares ``name``, ``has_logits`` (whether ``logits`` gives
    class logits, for the Inception Score) and ``cache_id`` (what tells its weights apart in
    the cache of reference features; its name unless a subclass says more)."""

    name = ""
    has_logits = False

    @property
    def cache_id(self) -> str:
        return self.name

    def features(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def features_and_logits(
        self, images: torch.Tensor, logits: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features and (when asked) logits; a subclass with one network pass for both
        overrides it."""
        return self.features(images), (self.logits(images) if logits else None)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        raise GanariumError(
            f"the {self.name} extractor has no class logits: the Inception Score needs extractor=inception"
        )


class PixelExtractor(Extractor):
    name = "pixels"

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return images.detach().float().cpu().flatten(1)


class DigitClassifierExtractor(Extractor):
    name = "digit-classifier"
    has_logits = True

    @property
    def cache_id(self) -> str:
        """Its name and a hash of the shipped weights, so retrained weights recompute."""
        from ganarium.metrics.digit_classifier import WEIGHTS
        from ganarium.metrics.reference import file_fingerprint

        if WEIGHTS.exists():
            return f"{self.name}:{file_fingerprint(str(WEIGHTS))}"
        return self.name

    def _check(self, images: torch.Tensor) -> None:
        if images.dim() != 4 or images.shape[1] != 1:
            raise GanariumError(
                f"the digit-classifier extractor reads 1-channel digits, got shape {tuple(images.shape)}: "
                "use --extractor inception or pixels"
            )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        from ganarium.metrics.digits import classify

        self._check(images)
        return classify(images)[0]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        from ganarium.metrics.digits import classify

        self._check(images)
        return classify(images)[1]


class StackedDigitExtractor(Extractor):
    """The digit classifier's features of each channel, concatenated (3 x 128), for stacked digits."""

    name = "digit-classifier-x3"
    cache_id = DigitClassifierExtractor.cache_id  # the same weights

    def features(self, images: torch.Tensor) -> torch.Tensor:
        from ganarium.metrics.digits import classify

        return torch.cat([classify(images[:, c : c + 1])[0] for c in range(images.shape[1])], 1)


def to_uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float NCHW -> uint8 N3HW, the input torch-fidelity's extractors expect."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


class FidelityExtractor(Extractor):
    """Any torch-fidelity FeatureExtractorBase: ``feature_layer`` for FID/KID/PR, ``logit_layer`` for IS."""

    has_logits = True

    def __init__(
        self,
        net: Any,
        name: str,
        feature_layer: str = "2048",
        logit_layer: str = "logits_unbiased",
        device: str = "cpu",
    ) -> None:
        self.net, self.name, self.device = net.to(device).eval(), name, device
        self.feature_layer, self.logit_layer = feature_layer, logit_layer
        self.order = list(net.features_list)

    @torch.no_grad()
    def _run(self, images: torch.Tensor, layer: str) -> torch.Tensor:
        out = []
        for i in range(0, len(images), BATCH):
            feats = self.net(to_uint8_rgb(images[i : i + BATCH]).to(self.device))
            out.append(feats[self.order.index(layer)].double().cpu())
        return torch.cat(out)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(images, self.feature_layer)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(images, self.logit_layer)


def resolve_inception_weights(path: str | None) -> str | None:
    """The local weights file to use: the argument, else $GANARIUM_INCEPTION_WEIGHTS, else None
    (download). A given file is checked to hold only tensors before anything else loads it."""
    path = path or os.environ.get(WEIGHTS_ENV)
    if not path:
        return None
    p = Path(path).expanduser()
    if not p.is_file():
        raise GanariumError(
            f"Inception weights file {p} does not exist: pass --inception-weights PATH to {INCEPTION_FILE}"
        )
    try:
        torch.load(p, map_location="cpu", weights_only=True)  # torch-fidelity itself loads unsafely
    except Exception as e:  # noqa: BLE001 - any failure means we will not load it
        raise GanariumError(
            f"refusing Inception weights {p}: not a plain tensor file ({str(e).splitlines()[0][:120]})"
        ) from None
    return str(p)


def inception_extractor(weights_path: str | None = None, device: str = "cpu") -> FidelityExtractor:
    """The standard FID Inception (TF 2015-12-05 graph) via torch-fidelity."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise GanariumError(
            "Inception metrics need torch-fidelity: pip install 'ganarium[eval]'"
        ) from None
    path = resolve_inception_weights(weights_path)
    if path is None and os.environ.get("GANARIUM_NO_DOWNLOAD"):
        raise GanariumError(
            f"no Inception weights: pass --inception-weights PATH (the file {INCEPTION_FILE}) or set "
            f"{WEIGHTS_ENV}; downloads are disabled here"
        )
    try:
        net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=path
        )
    except (OSError, RuntimeError) as e:
        raise GanariumError(
            f"could not load or download the Inception weights ({str(e).splitlines()[0][:120]}): pass "
            f"--inception-weights PATH to {INCEPTION_FILE} or set {WEIGHTS_ENV}"
        ) from None
    return FidelityExtractor(net, "inception", device=device)


def get_extractor(
    name: str, inception_weights: str | None = None, device: str = "cpu"
) -> Extractor:
    if name == "inception":
        return inception_extractor(inception_weights, device)
    return EXTRACTORS.get(name)()


EXTRACTORS.add("pixels", PixelExtractor)
EXTRACTORS.add("digit-classifier", DigitClassifierExtractor)
EXTRACTORS.add("digit-classifier-x3", StackedDigitExtractor)
EXTRACTORS.add("inception", inception_extractor)


def fashion_classifier_extractor() -> Extractor:
    """The project's Fashion-MNIST classifier (ganarium.metrics.fashion), imported on use."""
    from ganarium.metrics.fashion import FashionClassifierExtractor

    return FashionClassifierExtractor()  # type: ignore[return-value]


EXTRACTORS.add("fashion-classifier", fashion_classifier_extractor)
