"""The check kind of the paired translators (``translation-paired``): translate the held-out
split of the check's data and compare with the targets and with the task's trivial baseline
(identity, bicubic upsampling, mean-fill of the hole, gray).

Bars (each optional):
- ``psnr_margin``: output PSNR >= the baseline's PSNR + this many dB;
- ``label_kept``: the source digit's label recognised in >= this fraction of the outputs;
- ``label_over_baseline``: ... and in this much more than in the baseline's (super-resolution:
  0.05, "accuracy >= bicubic's + 5 points");
- ``colourfulness``: outputs' mean colourfulness >= this fraction of the targets';
- ``fid_below_l1``: FID to the target domain < this times that of the same recipe trained
  with L1 alone (``lambda_adv=0``), which the check trains too, with the same seed, data and
  steps (pix2pix's own claim, Isola et al. 2017, Table 1);
- ``l1_twin`` (any value): train that twin and report its FID as ``fid_l1`` next to the
  recipe's, without judging it (for a claim measured and reported either way).
"""

from __future__ import annotations

from ganarium.checks import CHECK_KINDS, CheckKind, check_seed, check_trainer
from ganarium.data import DataInfo, load_dataset
from ganarium.metrics.translation import (
    as_tensors,
    colourfulness,
    translate_all,
    translation_metrics,
)
from ganarium.models import LearningCheck, Recipe

N_HELD_OUT = 1000
CHEAP_EXTRACTORS = ("digit-classifier", "pixels")  # Inception is too slow for a CPU check


def held_out_metrics(recipe: Recipe, info: DataInfo, check: LearningCheck) -> dict[str, float]:
    """translation_metrics on the check data's test split (mean-fill from the train split)."""
    held_out = load_dataset(check.data, **{**check.data_options, "split": "test"})
    train_b = None  # mean-fill's mean target comes from the training split
    if info.baseline == "mean-fill":
        train_b = as_tensors(load_dataset(check.data, **check.data_options))["image_b"]
    extractor = info.extractor if info.extractor in CHEAP_EXTRACTORS else None
    m = translation_metrics(recipe, held_out, info, extractor, N_HELD_OUT, train_b)
    if extractor is not None:
        m["fid"], m["baseline_fid"] = (
            m.pop(f"fid[{extractor}]"),
            m.pop(f"baseline_fid[{extractor}]"),
        )
    if "colourfulness" in check.bars:
        data = as_tensors(held_out, N_HELD_OUT)
        target = colourfulness(data["image_b"])
        m["colourfulness"] = colourfulness(translate_all(recipe, data["image"])) / target
        m["baseline_colourfulness"] = 0.0  # the gray baseline has no colour
    m.pop("n_pairs", None)
    return m


def _measure(recipe: Recipe, info: DataInfo, check: LearningCheck, history) -> dict[str, float]:
    m = held_out_metrics(recipe, info, check)
    if ("fid_below_l1" in check.bars or "l1_twin" in check.bars) and history:
        # the L1-only twin trains with the check's seed, data and steps, so the two differ only
        # in the cGAN term
        twin, _, _ = check_trainer(
            recipe.name,
            seed=check_seed(),
            steps=int(history[-1]["step"]),
            model={"lambda_adv": 0.0},
        )
        twin.fit()
        m["fid_l1"] = held_out_metrics(twin.recipe, info, check)["fid"]
    return m


def _judge(before, after, bars) -> list[str]:
    fails = []
    if "psnr_margin" in bars:
        need = after["baseline_psnr"] + bars["psnr_margin"]
        if after["psnr"] < need:
            fails.append(
                f"PSNR {after['psnr']:.2f} dB < baseline {after['baseline_psnr']:.2f} + "
                f"{bars['psnr_margin']} dB"
            )
    if "label_kept" in bars and after.get("label_kept", 0.0) < bars["label_kept"]:
        fails.append(f"label kept in {after.get('label_kept', 0.0):.3f} < {bars['label_kept']}")
    if "label_over_baseline" in bars:
        need = after["baseline_label_kept"] + bars["label_over_baseline"]
        if after["label_kept"] < need:
            fails.append(
                f"label kept {after['label_kept']:.3f} < baseline's "
                f"{after['baseline_label_kept']:.3f} + {bars['label_over_baseline']}"
            )
    if "colourfulness" in bars and after.get("colourfulness", 0.0) < bars["colourfulness"]:
        fails.append(
            f"colourfulness {after.get('colourfulness', 0.0):.2f} of the targets' < "
            f"{bars['colourfulness']}"
        )
    if "fid_below_l1" in bars:
        if "fid_l1" not in after:
            fails.append("no L1-only twin was trained to compare FID with")
        elif after["fid"] >= bars["fid_below_l1"] * after["fid_l1"]:
            fails.append(
                f"FID {after['fid']:.3g} (L1 + cGAN) >= {bars['fid_below_l1']} x L1 alone's "
                f"{after['fid_l1']:.3g}"
            )
    return fails


def _describe(b) -> str:
    parts = []
    if "psnr_margin" in b:
        parts.append(f"PSNR >= baseline + {b['psnr_margin']:g} dB")
    if "label_kept" in b:
        parts.append(f"label kept >= {b['label_kept']:.0%}")
    if "label_over_baseline" in b:
        parts.append(f"label kept >= baseline's + {b['label_over_baseline'] * 100:.0f} points")
    if "colourfulness" in b:
        parts.append(f"colourfulness >= {b['colourfulness']:.0%} of the targets'")
    if "fid_below_l1" in b:
        parts.append("FID to targets below L1 alone's")
    elif "l1_twin" in b:
        parts.append("FID of L1 alone reported")
    return ", ".join(parts)


CHECK_KINDS.add("translation-paired", CheckKind(_measure, _judge, _describe))
