"""Digit metrics from the project's own classifier (not Inception): domain FID/KID against the
digits test split at the samples' resolution, label-distribution KL, classes covered,
confidence, and for conditional samples the accuracy of the requested class."""

from __future__ import annotations

from functools import lru_cache

import torch

from ganarium.data import DataInfo
from ganarium.metrics import DOMAINS, METRICS, Domain
from ganarium.metrics.digit_classifier import load_digit_classifier
from ganarium.metrics.fid import fid_from_features
from ganarium.metrics.kid import kernel_inception_distance

NUM_CLASSES = 10
COVER_SHARE = 0.25  # a class is covered with >= 25% of its fair share N / 10 of predictions
BATCH = 500


@torch.no_grad()
def classify(images: torch.Tensor, batch: int = BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, 128), logits (N, 10)) of images (N, 1, H, W) in [-1, 1]."""
    net = load_digit_classifier("cpu")
    feats, logits = [], []
    for i in range(0, len(images), batch):
        # clamp: generators may overshoot [-1, 1]; the classifier never saw such values
        x = images[i : i + batch].detach().float().cpu().clamp(-1, 1)
        h = net.features(x)
        feats.append(h)
        logits.append(net.out(h))
    return torch.cat(feats), torch.cat(logits)


@lru_cache(maxsize=8)
def reference_features(size: int, split: str = "test") -> torch.Tensor:
    """Classifier features of the real digits of ``split`` at ``size`` x ``size`` (cached)."""
    from ganarium.data.digits import digits

    return classify(digits(split=split, size=size).tensors["image"])[0]


def classifier_accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` the classifier reads as their ``labels``."""
    return float((classify(images)[1].argmax(1) == labels.cpu()).float().mean())


@METRICS.register("digits", paper="Heusel et al. 2017", year=2017, input="digit images")
def digit_metrics(
    samples: torch.Tensor, labels: torch.Tensor | None = None, reference: str = "test"
) -> dict[str, float | int]:
    """Metrics of (N, 1, H, W) digit samples in [-1, 1], read by the project's classifier.

    ``domain_fid`` / ``domain_kid``: FID (Heusel et al. 2017) and KID mean on the classifier's
    128-d features against the ``reference`` split resized to H; not comparable with Inception
    FID. ``label_kl``: KL(predicted-label histogram || uniform), smoothed by half a count per
    class. ``classes_covered`` (int): classes predicted for at least 25% of their fair share
    (N / 10) of the samples, so a class hit by a few stray samples does not count.
    ``confidence``: mean max-softmax. With ``labels`` (the classes the samples were asked for):
    ``class_accuracy``, the fraction read as their requested class.
    """
    if samples.dim() != 4 or samples.shape[1] != 1:
        raise ValueError(f"digit samples are (N, 1, H, W), got {tuple(samples.shape)}")
    feats, logits = classify(samples)
    ref = reference_features(int(samples.shape[-1]), reference)
    pred = logits.argmax(1)
    counts = torch.bincount(pred, minlength=NUM_CLASSES).double()
    p = (counts + 0.5) / (counts.sum() + 0.5 * NUM_CLASSES)
    out: dict[str, float | int] = {
        "domain_fid": fid_from_features(ref, feats),
        "domain_kid": kernel_inception_distance(ref, feats, subsets=20, subset_size=500)[0],
        "label_kl": float((p * (p * NUM_CLASSES).log()).sum()),
        "classes_covered": int((counts >= COVER_SHARE * len(samples) / NUM_CLASSES).sum()),
        "confidence": float(logits.softmax(1).max(1).values.mean()),
    }
    if labels is not None:
        out["class_accuracy"] = float((pred == labels.cpu()).float().mean())
    return out


def _digit_modes(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    m = digit_metrics(samples)
    return {k: float(m[k]) for k in ("classes_covered", "label_kl", "confidence")}


def _digit_periodic(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    m = digit_metrics(samples)
    return {k: float(m[k]) for k in ("domain_fid", "domain_kid", "classes_covered", "label_kl")}


def _digit_histogram(samples: torch.Tensor, info: DataInfo) -> dict[str, int]:
    counts = torch.bincount(classify(samples)[1].argmax(1), minlength=NUM_CLASSES)
    return {str(k): int(c) for k, c in enumerate(counts)}


DOMAINS.add(
    "digits", Domain(modes=_digit_modes, periodic=_digit_periodic, histogram=_digit_histogram)
)
