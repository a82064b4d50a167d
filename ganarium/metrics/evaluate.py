"""`ganarium eval`: the metrics of a trained run or of two image folders, printed and saved.

Metric groups: fid, kid, is, pr (precision, recall, f1), dc (density, coverage), modes (toy
modes, digit classes, stacked-digit modes), exact (shapes: exact precision/recall). Feature
metrics are labelled with their extractor, e.g. ``fid[digit-classifier]``, so a number from the
project's own network is never mistaken for Inception FID.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ganarium.checkpoint import atomic_write_text
from ganarium.data import DataInfo, load_dataset
from ganarium.errors import GanariumError, suggest
from ganarium.metrics.extractors import Extractor, get_extractor

METRICS = ("fid", "kid", "is", "pr", "dc", "modes", "exact")
FEATURE_METRICS = {"fid", "kid", "is", "pr", "dc"}


def auto_extractor(info: DataInfo) -> str:
    if info.kind == "vector" or info.name == "shapes":
        return "pixels"
    if info.name == "digits":
        return "digit-classifier"
    if info.name == "stacked-digits":
        return "digit-classifier-x3"
    return "inception"


def check_metrics(metrics: list[str]) -> list[str]:
    for m in metrics:
        if m not in METRICS:
            raise GanariumError(
                f"unknown metric {m!r}.{suggest(m, METRICS)} Known: {', '.join(METRICS)}"
            )
    return metrics


def mode_metrics(fake: torch.Tensor, info: DataInfo) -> dict[str, float]:
    if info.kind == "vector" and "modes" in info.extras:
        from ganarium.metrics.toy2d import toy2d_metrics

        return toy2d_metrics(fake, info)
    if info.name == "digits":
        from ganarium.metrics.digits import digit_metrics

        m = digit_metrics(fake)
        return {k: m[k] for k in ("classes_covered", "label_kl", "confidence")}
    if info.name == "stacked-digits":
        from ganarium.metrics.stacked import stacked_mode_metrics

        return stacked_mode_metrics(fake)
    raise GanariumError(
        f"metric 'modes' needs toy 2-D data, digits or stacked-digits, not {info.name}"
    )


def evaluate_features(
    real: torch.Tensor, fake: torch.Tensor, metrics: list[str], tag: str
) -> dict[str, float]:
    from ganarium.metrics.fid import fid_from_features
    from ganarium.metrics.kid import kernel_inception_distance
    from ganarium.metrics.prdc import prdc

    out: dict[str, float] = {}
    if "fid" in metrics:
        out[f"fid[{tag}]"] = fid_from_features(real, fake)
    if "kid" in metrics:
        mean, std = kernel_inception_distance(real, fake)
        out[f"kid[{tag}]"], out[f"kid_std[{tag}]"] = mean, std
    if "pr" in metrics or "dc" in metrics:
        m = prdc(real, fake, k=5)
        keys = (["precision", "recall", "f1"] if "pr" in metrics else []) + (
            ["density", "coverage"] if "dc" in metrics else []
        )
        out.update({f"{k}[{tag}]": m[k] for k in keys})
    return out


def evaluate_samples(
    fake: torch.Tensor,
    info: DataInfo,
    metrics: list[str],
    real: torch.Tensor | None = None,
    extractor: str = "auto",
    inception_weights: str | None = None,
    reference_key: dict | None = None,
    device: str = "cpu",
) -> dict[str, float]:
    """Metrics of ``fake`` against ``real`` (or the cached reference named by ``reference_key``)."""
    check_metrics(metrics)
    out: dict[str, float] = {"n_fake": float(len(fake))}
    if FEATURE_METRICS & set(metrics):
        name = auto_extractor(info) if extractor == "auto" else extractor
        ex: Extractor = get_extractor(name, inception_weights, device)
        if real is None:
            raise GanariumError("feature metrics need real samples to compare with")
        compute = lambda: ex.features(real)  # noqa: E731
        if reference_key is not None:
            from ganarium.metrics.reference import cached_features

            real_feats = cached_features(
                {**reference_key, "extractor": ex.name, "n": len(real)}, compute
            )
        else:
            real_feats = compute()
        out["n_real"] = float(len(real))
        out.update(evaluate_features(real_feats, ex.features(fake), metrics, ex.name))
        if "is" in metrics:
            from ganarium.metrics.inception_score import inception_score

            out[f"is[{ex.name}]"], out[f"is_std[{ex.name}]"] = inception_score(ex.logits(fake))
    if "modes" in metrics:
        out.update(mode_metrics(fake, info))
    if "exact" in metrics:
        if info.name != "shapes":
            raise GanariumError(f"metric 'exact' needs the shapes dataset, not {info.name}")
        from ganarium.metrics.shapes import exact_precision

        out["exact_precision"] = exact_precision(fake)
    return out


def real_reference(cfg: Any, n: int) -> tuple[torch.Tensor, dict]:
    """Up to n real images for a run: the test split when the dataset has one."""
    from ganarium.runs import data_options

    opts = data_options(cfg)
    if "split" in opts:
        opts["split"] = "test"
    ds = load_dataset(cfg.data.name, **opts)
    tensors = getattr(ds, "tensors", None)
    if tensors is not None:
        g = torch.Generator().manual_seed(0)
        idx = torch.randperm(len(ds), generator=g)[:n]
        x = tensors["image"][idx]
    else:
        x = torch.stack([ds[i]["image"] for i in range(min(n, len(ds)))])
    return x, {"data": cfg.data.name, "options": opts}


def evaluate_run(
    run_dir: str,
    metrics: list[str],
    n: int = 10000,
    extractor: str = "auto",
    inception_weights: str | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, float]:
    """Sample ``n`` images from a run's latest checkpoint, compute the metrics, save eval.json."""
    from ganarium.runs import load_recipe

    check_metrics(metrics)
    recipe = load_recipe(run_dir, device=device)
    real, key = real_reference(recipe.config, n) if FEATURE_METRICS & set(metrics) else (None, None)
    fake = []
    with torch.no_grad():
        for i in tqdm(range(0, n, 500), disable=not progress, desc="sampling", leave=False):
            fake.append(recipe.generate(min(500, n - i)).float().cpu())
    res = evaluate_samples(
        torch.cat(fake), recipe.info, metrics, real, extractor, inception_weights, key, device
    )
    G = getattr(recipe, "G", None)
    if "exact" in metrics and G is not None and hasattr(G, "z_dim"):
        from ganarium.metrics.shapes import exact_recall

        G.eval()
        res["exact_recall"] = exact_recall(
            lambda z: G(z.to(device)).cpu(), G.z_dim, recipe.info.shape[-1]
        )
    res["step"] = float(recipe.step)
    atomic_write_text(Path(run_dir) / "eval.json", json.dumps(res, indent=1))
    return res


def evaluate_folders(
    real_dir: str,
    fake_dir: str,
    metrics: list[str],
    size: int | None = None,
    extractor: str = "inception",
    inception_weights: str | None = None,
    device: str = "cpu",
) -> dict[str, float]:
    """Compare two folders of images (read at the real folder's first image size, RGB)."""
    from PIL import Image

    from ganarium.data.folder import ImageFolderDataset, list_images

    check_metrics(metrics)
    if size is None:
        files = list_images(Path(real_dir)) if Path(real_dir).is_dir() else []
        size = Image.open(files[0]).size[0] if files else 64
    sets = [
        ImageFolderDataset(d, size=size, channels=3, labelled=False) for d in (real_dir, fake_dir)
    ]
    real, fake = (torch.stack([ds[i]["image"] for i in range(len(ds))]) for ds in sets)
    info = DataInfo(name="folder", shape=tuple(real.shape[1:]))
    return evaluate_samples(fake, info, metrics, real, extractor, inception_weights, device=device)


def format_table(results: dict[str, float]) -> str:
    width = max(len(k) for k in results) if results else 0
    return "\n".join(f"{k:<{width}}  {v:.6g}" for k, v in results.items())
