"""The project's own Fashion-MNIST classifier: an offline feature extractor for domain FID, KID
and precision / recall on Fashion-MNIST (so they work without Inception), and the judge of class
coverage of generated clothes.

Same network as the digit classifier (two conv blocks, a 128-d penultimate layer), trained by
``scripts/train_fashion_classifier.py`` on the 60,000 training images only (shifts, flips and
low-resolution round trips, so 16x16 samples are read too). Its test accuracy on the 10,000 test
images, at 28x28 and 16x16, is in ``weights/fashion_classifier.json`` (``accuracy_report()``)
and is shown next to every number this network produces (``describe()``). These are not
Inception features: ``fid[fashion-classifier]`` is on its own scale, not comparable with
published (Inception) FIDs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch

from ganarium.data import DataInfo
from ganarium.errors import GanariumError
from ganarium.metrics import DOMAINS, METRICS, Domain
from ganarium.metrics.digit_classifier import DigitClassifier
from ganarium.metrics.extractors import Extractor
from ganarium.metrics.fid import fid_from_features
from ganarium.metrics.kid import kernel_inception_distance

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "fashion_classifier.safetensors"
REPORT = WEIGHTS.with_suffix(".json")
NAME = "fashion-classifier"
NUM_CLASSES = 10
COVER_SHARE = 0.25  # as for digits: a class is covered with >= 25% of its fair share
BATCH = 500


class FashionClassifier(DigitClassifier):
    """(N, 1, H, W) in [-1, 1], any H -> logits (N, 10) over Fashion-MNIST's classes;
    ``features`` is the 128-d penultimate layer."""


@lru_cache(maxsize=4)
def load_fashion_classifier(device: str = "cpu") -> FashionClassifier:
    """The shipped classifier (safetensors: loading runs no code), eval mode, frozen."""
    from safetensors.torch import load_file

    if not WEIGHTS.exists():
        raise GanariumError(f"{WEIGHTS} is missing: run scripts/train_fashion_classifier.py")
    net = FashionClassifier()
    net.load_state_dict(load_file(str(WEIGHTS)))
    net.requires_grad_(False)
    return net.to(device).eval()


@lru_cache(maxsize=1)
def accuracy_report() -> dict[str, float]:
    """Test accuracies the training script measured (``test_accuracy_28``, ``_16``)."""
    if not REPORT.exists():
        raise GanariumError(f"{REPORT} is missing: run scripts/train_fashion_classifier.py")
    return json.loads(REPORT.read_text())


def describe() -> str:
    """One line naming the network and its measured test accuracy, printed beside its metrics."""
    r = accuracy_report()
    return (
        f"{NAME}: the project's Fashion-MNIST classifier, test accuracy "
        f"{100 * r['test_accuracy_28']:.1f}% at 28x28, {100 * r['test_accuracy_16']:.1f}% at 16x16 "
        "(not Inception: its FID is on another scale)"
    )


@torch.no_grad()
def classify(images: torch.Tensor, batch: int = BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, 128), logits (N, 10)) of images (N, 1, H, W) in [-1, 1]."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise GanariumError(
            f"the {NAME} extractor reads 1-channel images, got shape {tuple(images.shape)}: "
            "use --extractor inception or pixels"
        )
    net = load_fashion_classifier("cpu")
    feats, logits = [], []
    for i in range(0, len(images), batch):
        h = net.features(images[i : i + batch].detach().float().cpu().clamp(-1, 1))
        feats.append(h)
        logits.append(net.out(h))
    return torch.cat(feats), torch.cat(logits)


class FashionClassifierExtractor(Extractor):
    """The feature-extractor interface (``ganarium.metrics.extractors``) over this classifier."""

    name = NAME
    has_logits = True

    @property
    def cache_id(self) -> str:
        """Reference features are cached per weights file, so retrained weights recompute them."""
        from ganarium.metrics.reference import file_fingerprint

        return f"{NAME}:{file_fingerprint(str(WEIGHTS))}"

    @property
    def test_accuracy(self) -> dict[str, float]:
        return accuracy_report()

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return classify(images)[0]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return classify(images)[1]


@lru_cache(maxsize=4)
def reference_features(size: int) -> torch.Tensor:
    """Classifier features of the 10,000 test images at ``size`` x ``size`` (cached)."""
    from ganarium.data.fashion_mnist import fashion_mnist

    return classify(fashion_mnist(split="test", size=size).tensors["image"])[0]


@METRICS.register("fashion", paper="Heusel et al. 2017", year=2017, input="fashion images")
def fashion_metrics(samples: torch.Tensor) -> dict[str, float]:
    """Metrics of (N, 1, H, W) Fashion-MNIST samples in [-1, 1], read by the project's
    classifier: ``domain_fid`` / ``domain_kid`` against the test split at H x H, the
    predicted-label KL to uniform, classes covered (>= 25% of the fair share N / 10), mean
    confidence, and ``classifier_test_accuracy`` (the network's own, at 28x28)."""
    feats, logits = classify(samples)
    pred = logits.argmax(1)
    counts = torch.bincount(pred, minlength=NUM_CLASSES).double()
    p = (counts + 0.5) / (counts.sum() + 0.5 * NUM_CLASSES)
    return {
        "domain_fid": fid_from_features(reference_features(int(samples.shape[-1])), feats),
        "domain_kid": kernel_inception_distance(
            reference_features(int(samples.shape[-1])), feats, subsets=20, subset_size=500
        )[0],
        "label_kl": float((p * (p * NUM_CLASSES).log()).sum()),
        "classes_covered": float((counts >= COVER_SHARE * len(samples) / NUM_CLASSES).sum()),
        "confidence": float(logits.softmax(1).max(1).values.mean()),
        "classifier_test_accuracy": accuracy_report()["test_accuracy_28"],
    }


def _modes(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    m = fashion_metrics(samples)
    keep = ("classes_covered", "label_kl", "confidence", "classifier_test_accuracy")
    return {k: m[k] for k in keep}


def _periodic(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    m = fashion_metrics(samples)
    return {k: m[k] for k in ("domain_fid", "domain_kid", "classes_covered", "label_kl")}


DOMAINS.add("fashion-mnist", Domain(modes=_modes, periodic=_periodic))
