"""Digit metrics from the project's own classifier (not Inception): domain FID/KID against the
digits test split at the samples' resolution, label-distribution KL, classes covered,
confidence, and for conditional samples the accuracy of the requested class."""

from __future__ import annotations

from functools import lru_cache

import torch

from ganarium.metrics.digit_classifier import load_digit_classifier
from ganarium.metrics.fid import fid_from_features
from ganarium.metrics.kid import kernel_inception_distance

NUM_CLASSES = 10
COVER_SHARE = 0.25


@torch.no_grad()
def classify(images: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, 128), logits (N, 10)) of images (N, 1, H, W) in [-1, 1]."""
    net = load_digit_classifier("cpu")
    feats, logits = [], []
    for i in range(0, len(images), batch):
        x = images[i : i + batch].detach().float().cpu().clamp(-1, 1)
        h = net.features(x)
        feats.append(h)
        logits.append(net.out(h))
    return torch.cat(feats), torch.cat(logits)


@lru_cache(maxsize=8)
def reference_features(size: int, split: str = "test") -> torch.Tensor:
    from ganarium.data.digits import digits

    return classify(digits(split=split, size=size).tensors["image"])[0]


def classifier_accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((classify(images)[1].argmax(1) == labels.cpu()).float().mean())


def digit_metrics(
    samples: torch.Tensor, labels: torch.Tensor | None = None, reference: str = "test"
) -> dict[str, float]:
    """``classes_covered`` counts classes predicted for at least 25% of their fair share (N/10)
    of the samples; ``label_kl`` is KL(predicted-label histogram || uniform), smoothed."""
    feats, logits = classify(samples)
    ref = reference_features(samples.shape[-1], reference)
    pred = logits.argmax(1)
    counts = torch.bincount(pred, minlength=NUM_CLASSES).double()
    p = (counts + 0.5) / (counts.sum() + 0.5 * NUM_CLASSES)
    out = {
        "domain_fid": fid_from_features(ref, feats),
        "domain_kid": kernel_inception_distance(ref, feats, subsets=20, subset_size=500)[0],
        "label_kl": float((p * (p * NUM_CLASSES).log()).sum()),
        "classes_covered": float((counts >= COVER_SHARE * len(samples) / NUM_CLASSES).sum()),
        "confidence": float(logits.softmax(1).max(1).values.mean()),
    }
    if labels is not None:
        out["class_accuracy"] = float((pred == labels.cpu()).float().mean())
    return out
