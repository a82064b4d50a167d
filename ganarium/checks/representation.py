"""Check kinds of the recipes that learn representations (issue 13):

- ``representation-probe`` (BiGAN, BigBiGAN, O-GAN): a linear probe (logistic regression on
  standardised features, fit on the train split's labels) on ``encode(x)`` must beat the same
  probe on the untrained encoder by ``probe_margin`` of test accuracy, and G(E(x)) must keep
  the digit the classifier reads in the real image in ``label_kept`` of the test digits.
"""

from __future__ import annotations

import torch

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.checks.conditional import _test_split
from ganarium.data import DataInfo, load_dataset
from ganarium.models import LearningCheck, Recipe

BATCH = 250


def _batched(fn, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([fn(x[i : i + BATCH]).float().cpu() for i in range(0, len(x), BATCH)])


def linear_probe_accuracy(
    train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor]
) -> float:
    """Test accuracy of multinomial logistic regression (L2, C = 1) fit on standardised train
    features; (features (N, F), labels (N,)) each."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train[0].numpy())
    probe = LogisticRegression(max_iter=2000).fit(
        scaler.transform(train[0].numpy()), train[1].numpy()
    )
    return float(probe.score(scaler.transform(test[0].numpy()), test[1].numpy()))


def _probe_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    from ganarium.metrics.digits import classify

    opts = {k: v for k, v in check.data_options.items() if k != "labels_per_class"}
    data = load_dataset(check.data, **{**opts, "split": "train"}).tensors
    x_test, y_test = _test_split(check)
    train = (_batched(recipe.encode, data["image"]), data["label"])
    test = (_batched(recipe.encode, x_test), y_test)
    read = classify(x_test)[1].argmax(1)
    rec = _batched(recipe.reconstruct, x_test)
    return {
        "probe_accuracy": linear_probe_accuracy(train, test),
        "label_kept": float((classify(rec)[1].argmax(1) == read).float().mean()),
    }


def _probe_judge(before, after, bars) -> list[str]:
    fails = []
    need = before["probe_accuracy"] + bars["probe_margin"]
    if after["probe_accuracy"] < need:
        fails.append(
            f"linear probe accuracy {after['probe_accuracy']:.3f} < untrained encoder "
            f"{before['probe_accuracy']:.3f} + {bars['probe_margin']:.2f}"
        )
    if after["label_kept"] < bars["label_kept"]:
        fails.append(
            f"G(E(x)) keeps the label for {after['label_kept']:.2f} < {bars['label_kept']:.2f}"
        )
    return fails


CHECK_KINDS.add(
    "representation-probe",
    CheckKind(
        _probe_measure,
        _probe_judge,
        lambda b: (
            f"linear probe on encode(x) >= untrained encoder + {b['probe_margin'] * 100:.0f} points, "
            f"G(E(x)) keeps the label >= {b['label_kept']:.0%}"
        ),
    ),
)


# -- IC-GAN: samples follow the conditioning instance's neighbourhood ----------------------------
N_INSTANCES = 200
PER_INSTANCE = 5


def _instance_scores(
    recipe: Recipe, instances: torch.Tensor, labels: torch.Tensor, neighbours: torch.Tensor, keys
) -> tuple[float, float]:
    """(fraction of samples whose nearest training image lies in their instance's
    neighbourhood, fraction the digit classifier reads as the instance's class)."""
    from ganarium.data.instances import instance_features, nearest_neighbours
    from ganarium.metrics.digits import classify

    x = _batched(lambda b: recipe.generate_from_instances(b, PER_INSTANCE), instances)
    nearest = nearest_neighbours(instance_features(x), keys, 1)[:, 0]
    hood = neighbours.repeat_interleave(PER_INSTANCE, 0)
    inside = (hood == nearest[:, None]).any(1).float().mean()
    kept = (classify(x)[1].argmax(1) == labels.repeat_interleave(PER_INSTANCE)).float().mean()
    return float(inside), float(kept)


def _instance_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    from ganarium.data.instances import instance_features, nearest_neighbours

    opts = dict(check.data_options)
    base, k = opts.pop("base", "digits"), opts.pop("k", 10)
    train = load_dataset(base, **{**opts, "split": "train"}).tensors
    test = load_dataset(base, **{**opts, "split": "test"}).tensors
    keys = instance_features(train["image"])
    out = {"chance": k / len(keys)}
    for split, data in (("train", train), ("test", test)):
        pick = torch.randperm(len(data["image"]))[:N_INSTANCES]
        x, y = data["image"][pick], data["label"][pick]
        hood = nearest_neighbours(instance_features(x), keys, k)  # a train instance: itself too
        inside, kept = _instance_scores(recipe, x, y, hood, keys)
        out[f"neighbourhood_{split}"], out[f"class_kept_{split}"] = inside, kept
    return out


def _instance_judge(before, after, bars) -> list[str]:
    fails = []
    for split in ("train", "test"):
        inside, kept = after[f"neighbourhood_{split}"], after[f"class_kept_{split}"]
        if inside < bars["neighbourhood"]:
            fails.append(
                f"{split} instances: nearest real image in the neighbourhood for {inside:.3f} < "
                f"{bars['neighbourhood']:.2f} (chance {after['chance']:.4f})"
            )
        if kept < bars["class_kept"]:
            fails.append(f"{split} instances: class kept {kept:.2f} < {bars['class_kept']:.2f}")
    return fails


CHECK_KINDS.add(
    "instance-neighbourhood",
    CheckKind(
        _instance_measure,
        _instance_judge,
        lambda b: (
            f"a sample's nearest real image lies in its instance's neighbourhood >= "
            f"{b['neighbourhood']:.0%} (chance k/N), class kept >= {b['class_kept']:.0%}, for "
            "train and held-out instances"
        ),
    ),
)
