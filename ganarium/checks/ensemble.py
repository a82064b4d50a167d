"""Check kinds of the many-network recipes (issue 13):

- ``modes-vs-one-discriminator`` (GMAN on the grid, for experiments) and ``modes-vs-one-generator`` (MAD-GAN): modes
  covered by the recipe's samples (the data domain's mode statistic: VEEGAN's rule on the toy
  grid) must be at least ``margin`` above the same recipe trained with one discriminator / one
  generator (``n_discriminators=1`` / ``n_generators=1``, the standard GAN) at equal steps
  and seed, and reach ``modes_covered`` and ``high_quality`` outright. For MAD-GAN the
  generators must also specialise: ``specialisation``, the mean total-variation distance
  between two generators' mode histograms minus the same statistic with the samples' generator
  labels shuffled (what sampling noise alone gives), must reach its bar.
- ``digits-fid-vs-one-discriminator`` (GMAN): the digits bars (domain FID against the
  untrained model, classes covered), and the recipe's domain FID at most
  ``fid_vs_one_discriminator`` times that of the same recipe trained with one discriminator at
  equal steps and seed: GMAN's claim of better samples in fewer iterations (Durugkar et al.
  2017, abstract).
- ``cogan-pairs`` (CoGAN): pairs drawn from one z show the same digit in both domains (domain A
  read by the digit classifier, domain B turned back into a digit first) in ``pair_agreement``
  of 1,000 pairs; domain A's samples reach the digits bars (domain FID).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from ganarium.checks import CHECK_KINDS, CheckKind, ablation_scores
from ganarium.checks.core import N_DIGITS, _digits_describe, _digits_judge, digit_scores
from ganarium.data import DataInfo
from ganarium.data.twodomain import TO_DOMAIN_A
from ganarium.errors import ConfigError
from ganarium.metrics import domain_of
from ganarium.models import LearningCheck, Recipe
from ganarium.recipe import generate_batched

N_SAMPLES = 2500


def toy_mode_labels(samples: torch.Tensor, info: DataInfo) -> torch.Tensor:
    from ganarium.data.toy2d import nearest_mode

    return nearest_mode(samples, torch.as_tensor(info.modes))[0]


def stacked_mode_labels(samples: torch.Tensor, info: DataInfo) -> torch.Tensor:
    from ganarium.metrics.stacked import stacked_labels

    return stacked_labels(samples)


# each sample's mode, by data domain (for the generators' mode histograms)
MODE_LABELS: dict[str, Callable[[torch.Tensor, DataInfo], torch.Tensor]] = {
    "toy2d": toy_mode_labels,
    "stacked-digits": stacked_mode_labels,
}


def _mode_stats(samples: torch.Tensor, info: DataInfo) -> dict[str, float]:
    stats = domain_of(info).modes(samples, info)
    return {k: float(stats[k]) for k in ("modes_covered", "high_quality") if k in stats}


def single_network_baseline(
    recipe: Recipe, info: DataInfo, check: LearningCheck, hparam: str
) -> dict[str, float]:
    """Mode statistics of the same recipe and check with ``hparam`` = 1, trained at the same
    seed and step budget."""
    sample = lambda net: _mode_stats(generate_batched(net, N_SAMPLES), info)  # noqa: E731
    return ablation_scores(recipe, check, {hparam: 1}, sample)


def histogram_distance(labels: torch.Tensor, groups: torch.Tensor, n_modes: int) -> float:
    """Mean total-variation distance between the mode histograms of every pair of groups."""
    hists = [
        torch.bincount(labels[groups == g], minlength=n_modes).double() for g in groups.unique()
    ]
    hists = [h / h.sum().clamp_min(1) for h in hists]
    pairs = list(itertools.combinations(hists, 2))
    return float(sum(0.5 * (a - b).abs().sum() for a, b in pairs) / max(1, len(pairs)))


def specialisation(recipe: Recipe, info: DataInfo, k: int) -> dict[str, float]:
    """Mean pairwise TV distance of the K generators' mode histograms, and its excess over the
    same statistic with the generator labels shuffled."""
    recipe.require("generators")
    which = torch.arange(N_SAMPLES) % k
    samples = generate_batched(recipe, N_SAMPLES, generator=which)
    labels = MODE_LABELS[info.domain](samples, info)
    n_modes = int(labels.max()) + 1
    observed = histogram_distance(labels, which, n_modes)
    shuffled = histogram_distance(labels, which[torch.randperm(len(which))], n_modes)
    return {"generator_tv": observed, "specialisation": observed - shuffled}


def _modes_kind(hparam: str, words: str) -> CheckKind:
    def measure(recipe: Recipe, info: DataInfo, check: LearningCheck, history) -> dict[str, float]:
        out = _mode_stats(generate_batched(recipe, N_SAMPLES), info)
        out.update(
            {
                f"baseline_{k}": v
                for k, v in single_network_baseline(recipe, info, check, hparam).items()
            }
        )
        if "specialisation" in check.bars:
            out.update(specialisation(recipe, info, recipe.hp.n_generators))
        return out

    def judge(before, after, bars) -> list[str]:
        fails = []
        need = after["baseline_modes_covered"] + bars["margin"]
        if after["modes_covered"] < need:
            fails.append(
                f"modes covered {after['modes_covered']:.0f} < {words} "
                f"{after['baseline_modes_covered']:.0f} + {bars['margin']:.0f}"
            )
        for key, what in (("modes_covered", "modes covered"), ("high_quality", "high-quality")):
            if key in bars and after.get(key, 0.0) < bars[key]:
                fails.append(f"{what} {after.get(key, 0.0):.3g} < {bars[key]:.3g}")
        if "specialisation" in bars and after["specialisation"] < bars["specialisation"]:
            fails.append(
                f"generator specialisation {after['specialisation']:.3f} < {bars['specialisation']:.2f}"
            )
        return fails

    def describe(b) -> str:
        parts = [f"modes covered >= {words} + {b['margin']:.0f} at equal steps"]
        if "modes_covered" in b:
            parts.append(f">= {b['modes_covered']:.0f} modes")
        if "high_quality" in b:
            parts.append(f">= {b['high_quality']:.0%} high-quality")
        if "specialisation" in b:
            parts.append(
                f"generators' mode histograms differ (TV over shuffled) >= {b['specialisation']:.2f}"
            )
        return ", ".join(parts)

    return CheckKind(measure, judge, describe)


CHECK_KINDS.add("modes-vs-one-discriminator", _modes_kind("n_discriminators", "one discriminator"))
CHECK_KINDS.add("modes-vs-one-generator", _modes_kind("n_generators", "one generator"))


# -- GMAN: digits FID against the same recipe with one discriminator ---------------------------
def _fid_vs_one_d_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    out = digit_scores(generate_batched(recipe, N_DIGITS))
    sample = lambda net: digit_scores(generate_batched(net, N_DIGITS))  # noqa: E731
    baseline = ablation_scores(recipe, check, {"n_discriminators": 1}, sample)
    out.update({f"baseline_{k}": v for k, v in baseline.items()})
    return out


def _fid_vs_one_d_judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    limit = bars["fid_vs_one_discriminator"] * after["baseline_domain_fid"]
    if after["domain_fid"] > limit:
        fails.append(
            f"domain FID {after['domain_fid']:.3g} > {bars['fid_vs_one_discriminator']} x "
            f"one discriminator's ({limit:.3g}) at equal steps"
        )
    return fails


CHECK_KINDS.add(
    "digits-fid-vs-one-discriminator",
    CheckKind(
        _fid_vs_one_d_measure,
        _fid_vs_one_d_judge,
        lambda b: (
            f"domain FID <= {b['fid_vs_one_discriminator']} x one discriminator's at equal "
            "steps, " + _digits_describe(b)
        ),
    ),
)


# -- CoGAN: one z, the same digit in both domains ------------------------------------------------
def _cogan_measure(
    recipe: Recipe, info: DataInfo, check: LearningCheck, history
) -> dict[str, float]:
    from ganarium.metrics.digits import classify

    recipe.require("pairs")
    a, b = [], []
    for i in range(0, N_DIGITS, 500):
        pa, pb = recipe.generate_pairs(min(500, N_DIGITS - i))
        a.append(pa.float().cpu())
        b.append(pb.float().cpu())
    a, b = torch.cat(a), torch.cat(b)
    read_a = classify(a)[1].argmax(1)
    to_a = TO_DOMAIN_A.get(info.transform)
    if to_a is None:
        raise ConfigError(
            f"cogan-pairs reads domain B of {sorted(TO_DOMAIN_A)} data only, not {info.name!r}"
        )
    read_b = classify(to_a(b))[1].argmax(1)
    return {"pair_agreement": float((read_a == read_b).float().mean()), **digit_scores(a)}


def _cogan_judge(before, after, bars) -> list[str]:
    fails = _digits_judge(before, after, bars)
    if after["pair_agreement"] < bars["pair_agreement"]:
        fails.append(
            f"pairs show the same digit in {after['pair_agreement']:.2f} < {bars['pair_agreement']:.2f}"
        )
    return fails


CHECK_KINDS.add(
    "cogan-pairs",
    CheckKind(
        _cogan_measure,
        _cogan_judge,
        lambda b: (
            f"pairs from one z show the same digit in both domains >= {b['pair_agreement']:.0%}, "
            + _digits_describe(b)
        ),
    ),
)
