"""Check kinds of the conditional, information and semi-supervised recipes (issue 3):

- ``infogan-purity``: samples of each categorical-code value, labelled by the digit classifier,
  should fall mostly in one class (cluster purity), with no labels used in training;
- ``semi-supervised``: the recipe's own classifier, trained with few labels plus unlabelled
  data, must beat the same architecture trained on those labels alone;
- ``icgan-edit``: encode a real digit, re-generate it (the label must survive) and with another
  label (the new label must show);
- ``semi-supervised-conditional``: the ``semi-supervised`` classifier bar and the digits bars
  (domain FID, requested-class accuracy) from one run with few labels (Triple-GAN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.checks.core import (
    N_DIGITS,
    _digits_describe,
    _digits_judge,
    _digits_measure,
    digit_scores,
)
from ganarium.data import DataInfo, load_dataset
from ganarium.models import LearningCheck, Recipe
from ganarium.recipe import generate_batched


# -- InfoGAN: categorical-code cluster purity ------------------------------------------------
def cluster_purity(codes: torch.Tensor, predicted: torch.Tensor) -> float:
    """sum over code values of the size of their largest predicted class, over N."""
    total = 0
    for c in codes.unique():
        total += int(torch.bincount(predicted[codes == c]).max())
    return total / len(codes)


def _purity_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history=()
) -> dict[str, float]:
    from ganarium.metrics.digits import classify

    k = recipe.hp.n_categories
    codes = torch.arange(N_DIGITS) % k
    x = generate_batched(recipe, N_DIGITS, labels=codes)
    predicted = classify(x)[1].argmax(1)
    return {"purity": cluster_purity(codes, predicted), **digit_scores(x)}


def _purity_judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    if after["purity"] < bars["purity"]:
        fails.append(f"code cluster purity {after['purity']:.2f} < {bars['purity']:.2f}")
    return fails


CHECK_KINDS.add(
    "infogan-purity",
    CheckKind(
        _purity_measure,
        _purity_judge,
        lambda b: f"categorical-code purity >= {b['purity']:.0%}, " + _digits_describe(b),
    ),
)


# -- SSGAN / Triple-GAN: the learned classifier against a labels-only baseline -------------------
def _test_split(check: LearningCheck) -> tuple[torch.Tensor, torch.Tensor]:
    opts = {k: v for k, v in check.data_options.items() if k != "labels_per_class"}
    test = load_dataset(check.data, **{**opts, "split": "test"})
    return test.tensors["image"], test.tensors["label"]


def _accuracy(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    from ganarium.models._labelled import classify_batched

    return float((classify_batched(net, x).argmax(1) == y).float().mean())


_BASELINES: dict[str, float] = {}


def labels_only_baseline(recipe: Recipe, check: LearningCheck, seed: int = 0) -> float:
    """Test accuracy of ``recipe.make_classifier()`` trained on the labelled examples alone with
    the recipe's own classifier optimizer (``recipe.classifier_optimizer``), batch size and step
    budget, with the same seed (cached per check)."""
    key = f"{recipe.name}|{check!r}|{seed}"
    if key in _BASELINES:
        return _BASELINES[key]
    data = load_dataset(check.data, **check.data_options)
    keep = data.tensors["label"] >= 0
    x, y = data.tensors["image"][keep], data.tensors["label"][keep]
    batch = check.train.get("batch_size", 64)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = recipe.make_classifier().cpu().train()
        opt = recipe.classifier_optimizer(net.parameters())
        for _ in range(check.steps):
            idx = torch.randint(len(y), (batch,))
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _BASELINES[key] = _accuracy(net, *_test_split(check))
    return _BASELINES[key]


def _semi_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history=()
) -> dict[str, float]:
    return {
        "accuracy": _accuracy(recipe.classifier(), *_test_split(check)),
        "baseline": labels_only_baseline(recipe, check),
    }


def _semi_judge(before, after, bars) -> list[str]:
    need = after["baseline"] + bars["margin"]
    if after["accuracy"] < need:
        return [
            f"test accuracy {after['accuracy']:.3f} < labels-only baseline "
            f"{after['baseline']:.3f} + {bars['margin']:.2f}"
        ]
    return []


CHECK_KINDS.add(
    "semi-supervised",
    CheckKind(
        _semi_measure,
        _semi_judge,
        lambda b: (
            f"classifier test accuracy >= labels-only baseline + {b['margin'] * 100:.0f} points"
        ),
    ),
)


# -- IcGAN: reconstruct and edit real digits ---------------------------------------------------
N_EDIT = 500


def _icgan_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history=()
) -> dict[str, float]:
    from ganarium.metrics.digits import classify

    x, _ = _test_split(check)
    x = x[torch.randperm(len(x))[:N_EDIT]]
    read = classify(x)[1].argmax(1)  # the classifier's reading of the real digits
    with torch.no_grad():
        rec = torch.cat([recipe.reconstruct(x[i : i + 250]).cpu() for i in range(0, len(x), 250)])
        new = (read + torch.randint(1, info.num_classes, read.shape)) % info.num_classes
        edited = torch.cat(
            [recipe.edit(x[i : i + 250], new[i : i + 250]).cpu() for i in range(0, len(x), 250)]
        )
    labels = torch.arange(N_DIGITS) % info.num_classes
    return {
        **digit_scores(generate_batched(recipe, N_DIGITS, labels=labels), labels),
        "label_kept": float((classify(rec)[1].argmax(1) == read).float().mean()),
        "edit_accuracy": float((classify(edited)[1].argmax(1) == new).float().mean()),
    }


def _icgan_judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    for key, words in (("label_kept", "reconstruction keeps"), ("edit_accuracy", "edit shows")):
        if after[key] < bars[key]:
            fails.append(f"{words} the label for {after[key]:.2f} < {bars[key]:.2f}")
    return fails


CHECK_KINDS.add(
    "icgan-edit",
    CheckKind(
        _icgan_measure,
        _icgan_judge,
        lambda b: (
            f"reconstruction keeps the label >= {b['label_kept']:.0%}, re-generation with a "
            f"new label shows it >= {b['edit_accuracy']:.0%}, " + _digits_describe(b)
        ),
    ),
)


# -- Triple-GAN: both a better classifier and class-conditional samples ------------------------
def _semi_conditional_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history=()
) -> dict[str, float]:
    return {**_semi_measure(recipe, info, check), **_digits_measure(recipe, info, check)}


CHECK_KINDS.add(
    "semi-supervised-conditional",
    CheckKind(
        _semi_conditional_measure,
        lambda before, after, bars: (
            _semi_judge(before, after, bars) + _digits_judge(before, after, bars)
        ),
        lambda b: CHECK_KINDS.get("semi-supervised").describe(b) + ", " + _digits_describe(b),
    ),
)
