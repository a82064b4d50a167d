"""Check kinds of the unpaired translators: does A -> B land in domain B, keep the content, and
come back?

``unpaired-translation`` trains a small domain classifier (real A vs real B) once per task on
its training split and reads digits with the project's digit classifier where the task's
extractor is that classifier (1-channel digits), or else with a digit classifier trained on
the side's real images and labels; then on the held-out split it measures

- ``domain_b``: the fraction of G_AB(test A) the domain classifier calls B (bar: 0.9),
- ``label_kept``: the fraction of G_AB(test A) the B-digit classifier reads as the source
  digit (bar: 0.8),
- ``cycle_l1``: mean |G_BA(G_AB(a)) - a| in [-1, 1] units (bar: stated per check),

and the same for the identity map (``identity_domain_b``; the trivial baseline, whose cycle is
perfect and whose content is kept, but which never leaves domain A): ``domain_b`` must beat it
by ``margin``. (An untrained translator's noise is "not A" to the domain classifier, so it is
the content and cycle bars that the untrained model fails.) B -> A figures (``domain_a``, ``label_kept_a``,
``cycle_l1_b``) and the judges' own test accuracies are reported alongside, without bars.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarium.checks import CHECK_KINDS, CheckKind
from ganarium.data import DataInfo, load_dataset
from ganarium.models import LearningCheck, Recipe

JUDGE_STEPS = 300
DIGIT_JUDGE_STEPS = 1500
JUDGE_BATCH = 64
EVAL_BATCH = 250


class Judge(nn.Module):
    """A small CNN classifier (N, C, H, W) -> (N, classes) logits, any H, W >= 8."""

    def __init__(self, channels: int, classes: int, width: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, width * 2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width * 2, width * 2, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(width * 2, classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def train_judge(
    x: Tensor, y: Tensor, classes: int, seed: int = 0, steps: int = JUDGE_STEPS
) -> Judge:
    """A Judge fitted to (x, y) with Adam, small random shifts as augmentation; frozen, eval."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        judge = Judge(x.shape[1], classes)
        opt = torch.optim.Adam(judge.parameters(), lr=2e-3)
        for _ in range(steps):
            idx = torch.randint(0, len(x), (JUDGE_BATCH,))
            xb = x[idx]
            shift = [int(s) for s in torch.randint(-1, 2, (2,))]
            xb = torch.roll(xb, shifts=shift, dims=(2, 3))
            loss = F.cross_entropy(judge(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return judge.eval().requires_grad_(False)


@torch.no_grad()
def predict(judge: nn.Module, x: Tensor) -> Tensor:
    return torch.cat([judge(x[i : i + EVAL_BATCH]).argmax(1) for i in range(0, len(x), EVAL_BATCH)])


def to_channels_of(x: Tensor, channels: int) -> Tensor:
    return x.expand(-1, channels, -1, -1) if x.shape[1] == 1 and channels == 3 else x


def digit_judge(info: DataInfo, x: Tensor, y: Tensor, seed: int) -> nn.Module:
    """The shipped digit classifier for 1-channel digit data, else one trained on (x, y)."""
    if info.extractor == "digit-classifier" and x.shape[1] == 1:
        from ganarium.metrics.digit_classifier import load_digit_classifier

        return load_digit_classifier()
    return train_judge(x, y, 10, seed=seed, steps=DIGIT_JUDGE_STEPS)


def _key(check: LearningCheck) -> tuple:
    return check.data, tuple(sorted(check.data_options.items()))


@lru_cache(maxsize=4)
def unpaired_judges(data: str, options: tuple) -> dict[str, object]:
    """The task's splits and judges, trained once per (data, options) and reused."""
    opts = dict(options)
    train, test = load_dataset(data, **opts), load_dataset(data, **{**opts, "split": "test"})
    (a, ya), (b, yb) = train.side("A"), train.side("B")
    c = max(a.shape[1], b.shape[1])
    both = torch.cat([to_channels_of(a, c), to_channels_of(b, c)])
    domain = train_judge(both, torch.cat([torch.zeros(len(a)), torch.ones(len(b))]).long(), 2)
    digit_b, digit_a = digit_judge(train.info, b, yb, 1), digit_judge(train.info, a, ya, 2)
    (ta, tya), (tb, tyb) = test.side("A"), test.side("B")
    tboth = torch.cat([to_channels_of(ta, c), to_channels_of(tb, c)])
    truth = torch.cat([torch.zeros(len(ta)), torch.ones(len(tb))]).long()
    accuracy = {
        "judge_domain_acc": float((predict(domain, tboth) == truth).float().mean()),
        "judge_digit_b_acc": float((predict(digit_b, tb) == tyb).float().mean()),
        "judge_digit_a_acc": float((predict(digit_a, ta) == tya).float().mean()),
    }
    return dict(
        test=test, domain=domain, digit_b=digit_b, digit_a=digit_a, channels=c, accuracy=accuracy
    )


@torch.no_grad()
def translate_all(recipe: Recipe, x: Tensor, direction: str) -> Tensor:
    return torch.cat(
        [
            recipe.translate(x[i : i + EVAL_BATCH], direction).float().cpu()
            for i in range(0, len(x), EVAL_BATCH)
        ]
    )


def _unpaired_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    j = unpaired_judges(*_key(check))
    (a, ya), (b, yb) = j["test"].side("A"), j["test"].side("B")
    c = j["channels"]
    fake_b, fake_a = translate_all(recipe, a, "AtoB"), translate_all(recipe, b, "BtoA")
    rec_a, rec_b = translate_all(recipe, fake_b, "BtoA"), translate_all(recipe, fake_a, "AtoB")

    def called(x, side):
        return float((predict(j["domain"], to_channels_of(x, c)) == side).float().mean())

    return {
        "domain_b": called(fake_b, 1),
        "label_kept": float((predict(j["digit_b"], fake_b) == ya).float().mean()),
        "cycle_l1": float((rec_a - a).abs().mean()),
        "identity_domain_b": called(a, 1),
        "identity_label_kept": float((predict(j["digit_b"], a) == ya).float().mean())
        if a.shape[1] == b.shape[1]
        else 0.0,
        "domain_a": called(fake_a, 0),
        "label_kept_a": float((predict(j["digit_a"], fake_a) == yb).float().mean()),
        "cycle_l1_b": float((rec_b - b).abs().mean()),
        **j["accuracy"],
    }


def _unpaired_judge(before, after, bars) -> list[str]:
    fails = []
    if after["domain_b"] < bars["domain_b"]:
        fails.append(f"A->B called domain B {after['domain_b']:.2f} < {bars['domain_b']:.2f}")
    if after["label_kept"] < bars["label_kept"]:
        fails.append(f"label kept {after['label_kept']:.2f} < {bars['label_kept']:.2f}")
    if after["cycle_l1"] > bars["cycle_l1"]:
        fails.append(f"cycle L1 {after['cycle_l1']:.3f} > {bars['cycle_l1']:.3f}")
    floor = after["identity_domain_b"] + bars["margin"]
    if after["domain_b"] < floor:
        fails.append(
            f"domain B {after['domain_b']:.2f} does not beat the identity map by "
            f"{bars['margin']} ({floor:.2f})"
        )
    return fails


def _unpaired_describe(b) -> str:
    return (
        f"A->B called domain B >= {b['domain_b']:.0%}, label kept >= {b['label_kept']:.0%}, "
        f"cycle L1 <= {b['cycle_l1']}, domain B >= identity map's + {b['margin']}"
    )


CHECK_KINDS.add(
    "unpaired-translation", CheckKind(_unpaired_measure, _unpaired_judge, _unpaired_describe)
)
