"""The check kind of instance-aware translation (InstaGAN): are the masked instances, and only
they, translated?

``instance-translation`` trains a small kind classifier once per task on crops around the
instances of the training scenes (real squares of A vs real discs of B), then on the held-out
A scenes translated with their masks measures

- ``target_kind``: the fraction of instances whose crop in the output the classifier calls the
  target kind (bar: 0.8), and the same for the identity map (``identity_target_kind``, the
  trivial baseline, which ``target_kind`` must beat by ``margin``);
- ``background_l1``: the mean |output - input| over the pixels more than 2 px from every input
  instance (the colour field and the unmasked distractors; bar stated per check); the identity
  map's is 0, an untrained translator's large;

and, without bars, ``target_kind_a`` (B -> A) and the classifier's own test accuracy.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.checks.unpaired import predict, train_judge
from ganarium.data import DataInfo, load_dataset
from ganarium.models import LearningCheck, Recipe

CROP = 11  # the classifier's window around an instance's centre, px
MARGIN_PX = 2  # pixels around the input masks that are not counted as background
BATCH = 100


def instance_crops(images: Tensor, masks: Tensor) -> Tensor:
    """(N, C, H, W) images, (N, K, H, W) {0, 1} masks -> (M, C, CROP, CROP): a window around
    the centre of mass of every non-empty mask, images padded by edge replication."""
    n, k = masks.shape[:2]
    h, w = masks.shape[-2:]
    ys, xs = torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32)
    area = masks.sum((-2, -1))
    present = area > 0
    cy = (masks.sum(-1) * ys).sum(-1) / area.clamp_min(1)
    cx = (masks.sum(-2) * xs).sum(-1) / area.clamp_min(1)
    r = CROP // 2
    padded = F.pad(images, (r, r, r, r), mode="replicate")
    crops = []
    for i, j in present.nonzero().tolist():
        top, left = int(round(float(cy[i, j]))), int(round(float(cx[i, j])))
        crops.append(padded[i, :, top : top + CROP, left : left + CROP])
    return torch.stack(crops) if crops else images.new_zeros(0, images.shape[1], CROP, CROP)


def background(masks: Tensor) -> Tensor:
    """(N, K, H, W) masks -> (N, 1, H, W) 1 where a pixel is more than MARGIN_PX from them."""
    near = F.max_pool2d(masks.amax(1, keepdim=True), 2 * MARGIN_PX + 1, 1, MARGIN_PX)
    return 1 - near


@lru_cache(maxsize=2)
def kind_judge(data: str, options: tuple) -> dict[str, object]:
    opts = dict(options)
    train, test = load_dataset(data, **opts), load_dataset(data, **{**opts, "split": "test"})

    def crops_of(ds):
        a = instance_crops(ds.a, ds.extra_a["mask"])
        b = instance_crops(ds.b, ds.extra_b["mask_b"])
        return torch.cat([a, b]), torch.cat([torch.zeros(len(a)), torch.ones(len(b))]).long()

    judge = train_judge(*crops_of(train), 2, seed=3)
    x, y = crops_of(test)
    return {
        "test": test,
        "judge": judge,
        "accuracy": float((predict(judge, x) == y).float().mean()),
    }


@torch.no_grad()
def translated(recipe: Recipe, x: Tensor, masks: Tensor, direction: str) -> Tensor:
    return torch.cat(
        [
            recipe.translate(x[i : i + BATCH], direction, masks=masks[i : i + BATCH]).float().cpu()
            for i in range(0, len(x), BATCH)
        ]
    )


def _measure(recipe: Recipe, info: DataInfo, check: LearningCheck, history) -> dict[str, float]:
    j = kind_judge(check.data, tuple(sorted(check.data_options.items())))
    test, judge = j["test"], j["judge"]
    x, m = test.a, test.extra_a["mask"]
    y, mb = test.b, test.extra_b["mask_b"]
    out_b, out_a = translated(recipe, x, m, "AtoB"), translated(recipe, y, mb, "BtoA")

    def kind(imgs, masks, want):
        return float((predict(judge, instance_crops(imgs, masks)) == want).float().mean())

    bg = background(m)
    return {
        "target_kind": kind(out_b, m, 1),
        "background_l1": float(((out_b - x).abs() * bg).sum() / (bg.sum() * x.shape[1])),
        "identity_target_kind": kind(x, m, 1),
        "target_kind_a": kind(out_a, mb, 0),
        "judge_kind_acc": j["accuracy"],
    }


def _judge(before, after, bars) -> list[str]:
    fails = []
    if after["target_kind"] < bars["target_kind"]:
        fails.append(
            f"instances of the target kind {after['target_kind']:.2f} < {bars['target_kind']:.2f}"
        )
    if after["background_l1"] > bars["background_l1"]:
        fails.append(f"background L1 {after['background_l1']:.3f} > {bars['background_l1']:.3f}")
    floor = after["identity_target_kind"] + bars["margin"]
    if after["target_kind"] < floor:
        fails.append(
            f"target kind {after['target_kind']:.2f} does not beat the identity map by {bars['margin']}"
        )
    return fails


def _describe(b) -> str:
    return (
        f"translated instances of the target kind >= {b['target_kind']:.0%} (identity + "
        f"{b['margin']}), background L1 <= {b['background_l1']}"
    )


CHECK_KINDS.add("instance-translation", CheckKind(_measure, _judge, _describe))
