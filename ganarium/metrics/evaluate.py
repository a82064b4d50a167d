"""`ganarium eval`: the metrics of generated samples, or of two image folders (a run's samples
are drawn by ``ganarium.runs.evaluate_run``, which calls ``evaluate_samples``).

Metric groups: fid, kid, is, pr (precision, recall, f1), dc (density, coverage), modes (toy 2-D
modes, digit classes, stacked-digit modes), exact (shapes: exact precision / recall). Feature
metrics carry their extractor in the key, e.g. ``fid[digit-classifier]``, so a number from the
project's own network is never mistaken for Inception FID (``fid[inception]``).

This is the top of the metrics package: runs, the CLI and scripts import it; nothing below does.
Which extractor suits the data and which mode / exact metrics apply come from its DataInfo
(``extractor``, ``domain``), never from its name.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ganarium.data import DATASETS, DataInfo, dataset_spec, in_memory, load_dataset
from ganarium.errors import GanariumError, suggest
from ganarium.metrics import domain_of
from ganarium.metrics.inception import FeatureExtractor, features_and_logits

METRICS = ("fid", "kid", "is", "pr", "dc", "modes", "exact")
FEATURE_METRICS = {"fid", "kid", "pr", "dc"}
NEEDS_EXTRACTOR = FEATURE_METRICS | {"is"}
BATCH = 500  # images per extractor call (one progress-bar tick)
HELD_OUT_SEED = 7919  # added to a seeded dataset's seed when it has no test split


def auto_extractor(info: DataInfo) -> str:
    """The extractor the data names (``DataInfo.extractor``): the digit classifier for digits
    (per channel for stacked digits), raw values for toy 2-D data and shapes, else Inception."""
    return info.extractor


def get_extractor(
    name: str | FeatureExtractor, inception_weights: str | None = None, device: str = "cpu"
) -> FeatureExtractor:
    if not isinstance(name, str):
        return name
    if name == "inception":
        from ganarium.metrics.inception import inception_extractor

        return inception_extractor(inception_weights, device)
    from ganarium.metrics.extractors import EXTRACTORS

    return EXTRACTORS.get(name)()


def check_metrics(metrics: list[str], info: DataInfo | None = None) -> list[str]:
    """Unknown names and metrics that do not apply to ``info`` fail before any work is done."""
    for m in metrics:
        if m not in METRICS:
            raise GanariumError(
                f"unknown metric {m!r}.{suggest(m, METRICS)} Known: {', '.join(METRICS)}"
            )
    if info is None:
        return metrics
    domain = domain_of(info)
    if "modes" in metrics and domain.modes is None:
        raise GanariumError(
            f"metric 'modes' needs data with known modes (ring8, grid25, digits, stacked-digits); "
            f"{info.name!r} has none"
        )
    if "exact" in metrics and domain.exact is None:
        raise GanariumError(
            f"metric 'exact' needs data whose manifold is known (shapes); not {info.name!r}"
        )
    return metrics


def extract(
    ex: FeatureExtractor, images: torch.Tensor, logits: bool, progress: bool, desc: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features (and logits) of ``images`` in batches, with a progress bar."""
    feats, outs = [], []
    for i in tqdm(range(0, len(images), BATCH), desc=desc, disable=not progress, leave=False):
        f, lg = features_and_logits(ex, images[i : i + BATCH], logits)
        feats.append(f.detach().cpu())
        if lg is not None:
            outs.append(lg.detach().cpu())
    return torch.cat(feats), (torch.cat(outs) if logits else None)


def feature_metrics(
    real: torch.Tensor, fake: torch.Tensor, metrics: list[str], tag: str
) -> dict[str, float]:
    """FID, KID, precision/recall/F1, density/coverage of two feature sets, keyed ``name[tag]``."""
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
        out.update({f"{k}[{tag}]": float(m[k]) for k in keys})
    return out


# -- real reference data ---------------------------------------------------------------------


def held_out_options(info: DataInfo, options: dict[str, Any] | None, n: int) -> dict[str, Any]:
    """Data options for a real reference of ``n`` samples: the training options, but the test
    split where the dataset has one, else a fresh seed; the samples' resolution."""
    if info.name not in DATASETS:
        raise GanariumError(
            f"no real reference is known for data {info.name!r}: pass real images "
            "(evaluate_samples(real=...), or `ganarium eval --real DIR --fake DIR`)"
        )
    spec = dataset_spec(info.name)
    opts = {k: v for k, v in (options or {}).items() if spec.takes(k)}
    if info.kind == "image" and spec.takes("size"):
        opts["size"] = info.resolution
    if spec.takes("split"):
        opts["split"] = "test"
    elif spec.takes("seed"):
        opts["seed"] = int(opts.get("seed", 0)) + HELD_OUT_SEED
    if spec.takes("n"):  # synthetic sets: make at least as many as asked for
        opts["n"] = max(int(opts.get("n", spec.options["n"])), n)
    return opts


def reference_images(
    info: DataInfo, n: int, options: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Up to ``n`` held-out real samples (a seeded random subset) and the options they came from."""
    opts = held_out_options(info, options, n)
    ds = load_dataset(info.name, **opts)
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))[:n]
    tensors = in_memory(ds)
    if tensors is not None:
        return tensors["image"][idx], opts
    return torch.stack([ds[int(i)]["image"] for i in idx]), opts


def reference_features(
    ex: FeatureExtractor,
    info: DataInfo,
    n: int,
    options: dict[str, Any] | None = None,
    progress: bool = True,
) -> tuple[torch.Tensor, int]:
    """(features of the held-out real reference, its size), from the on-disk cache when present."""
    from ganarium.metrics.reference import cached_features, extractor_cache_id, reference_key

    opts = held_out_options(info, options, n)
    n_real = n
    if "split" in opts:  # a fixed split may hold fewer than n
        n_real = min(n, len(load_dataset(info.name, **opts)))
    key = reference_key(
        info.name,
        extractor_cache_id(ex),
        n_real,
        split=opts.get("split"),
        resolution=info.resolution or None,
        options={k: v for k, v in opts.items() if k not in ("split", "size")},
    )
    compute = lambda: extract(ex, reference_images(info, n, options)[0], False, progress, "real")[0]  # noqa: E731
    feats = cached_features(key, compute)
    return feats, len(feats)


def training_images(
    info: DataInfo, n: int, options: dict[str, Any] | None = None, seed: int = 1
) -> torch.Tensor:
    """Up to ``n`` real samples of the training data (a seeded random subset), at the samples'
    resolution: what a perfect generator would produce."""
    spec = dataset_spec(info.name)
    opts = {k: v for k, v in (options or {}).items() if spec.takes(k)}
    if info.kind == "image" and spec.takes("size"):
        opts["size"] = info.resolution
    if spec.takes("n"):
        opts["n"] = max(int(opts.get("n", spec.options["n"])), n)
    ds = load_dataset(info.name, **opts)
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    tensors = in_memory(ds)
    if tensors is not None:
        return tensors["image"][idx]
    return torch.stack([ds[int(i)]["image"] for i in idx])


FLOOR_PREFIX = "floor/"


def real_floor(
    info: DataInfo,
    metrics: list[str],
    n: int,
    extractor: str = "auto",
    data_options: dict[str, Any] | None = None,
    inception_weights: str | None = None,
    device: str = "cpu",
) -> dict[str, float]:
    """The real-data floor: the same metrics for ``n`` real training samples against the same
    held-out reference, i.e. the best any generator can score at this size (not 0: two samples
    of one distribution differ). Computed once per data, size, extractor and metrics, and cached
    on disk next to the reference features. Keys as ``evaluate_samples``'s."""
    from ganarium.metrics.reference import cache_path, cached_json, reference_key

    name = auto_extractor(info) if extractor == "auto" else str(extractor)
    key = reference_key(
        info.name,
        f"floor:{name}:{','.join(sorted(metrics))}",
        n,
        split="train",
        resolution=info.resolution or None,
        options={k: v for k, v in (data_options or {}).items() if k not in ("split", "size")},
    )

    def compute() -> dict[str, float]:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            real = training_images(info, n, data_options)
            res = evaluate_samples(
                real,
                info,
                metrics,
                name,
                None,
                inception_weights,
                False,
                data_options=data_options,
                device=device,
            )
        return {k: v for k, v in res.items() if k != "n_real"}

    return cached_json(cache_path(key).with_suffix(".json"), key, compute)


# -- entry points ----------------------------------------------------------------------------


def evaluate_samples(
    fake: torch.Tensor,
    info: DataInfo,
    metrics: list[str],
    extractor: str | FeatureExtractor = "auto",
    real: torch.Tensor | None = None,
    inception_weights: str | None = None,
    progress: bool = True,
    *,
    data_options: dict[str, Any] | None = None,
    device: str = "cpu",
) -> dict[str, float]:
    """Metrics of generated ``fake`` samples (N, ...) in [-1, 1] of data ``info``.

    Feature metrics compare with ``real`` when given, else with a held-out real reference of
    N samples of the same dataset (``data_options``: the training data options), whose features
    are cached on disk. ``extractor``: a name (``auto``, ``inception``, ``digit-classifier``,
    ``digit-classifier-x3``, ``pixels``) or any object with the FeatureExtractor interface.
    """
    check_metrics(metrics, info)
    out: dict[str, float] = {"n_fake": float(len(fake))}
    if NEEDS_EXTRACTOR & set(metrics):
        name = auto_extractor(info) if extractor == "auto" else extractor
        ex = get_extractor(name, inception_weights, device)
        if "is" in metrics and not ex.has_logits:
            raise GanariumError(
                f"metric 'is' needs class logits, which the {ex.name} extractor has not: "
                "use --extractor inception (or digit-classifier on digits)"
            )
        f_fake, l_fake = extract(ex, fake, "is" in metrics, progress, "fake")
        if FEATURE_METRICS & set(metrics):
            if real is not None:
                f_real, n_real = extract(ex, real, False, progress, "real")[0], len(real)
            else:
                f_real, n_real = reference_features(ex, info, len(fake), data_options, progress)
            out["n_real"] = float(n_real)
            out.update(feature_metrics(f_real, f_fake, metrics, ex.name))
        if "is" in metrics:
            from ganarium.metrics.inception_score import inception_score

            out[f"is[{ex.name}]"], out[f"is_std[{ex.name}]"] = inception_score(l_fake)
    domain = domain_of(info)
    if "modes" in metrics:
        out.update(domain.modes(fake, info))
    if "exact" in metrics:
        out.update(domain.exact(fake, info))
    return out


def read_folder(folder: str, info: DataInfo) -> torch.Tensor:
    """Every image of ``folder`` read at the data's resolution and channels, in name order."""
    from ganarium.data.folder import ImageFolderDataset

    if info.kind != "image":
        raise GanariumError(
            f"{info.name!r} samples are vectors, not images: pass an .npz, not a folder"
        )
    ds = ImageFolderDataset(folder, size=info.resolution, channels=info.channels, labelled=False)
    return torch.stack([ds[i]["image"] for i in range(len(ds))])


def _folder_channels(files: list[Path]) -> int:
    """1 when every (sampled) image is grayscale, else 3."""
    from PIL import Image

    for f in files[:: max(1, len(files) // 16)]:
        with Image.open(f) as img:
            if img.mode not in ("1", "L", "I", "I;16", "F"):
                return 3
    return 1


def evaluate_folders(
    real_dir: str,
    fake_dir: str,
    metrics: list[str],
    extractor: str | FeatureExtractor = "inception",
    inception_weights: str | None = None,
    size: int | None = None,
    channels: int | None = None,
    cross_check: bool = False,
    progress: bool = True,
    device: str = "cpu",
) -> dict[str, float]:
    """Compare two folders of images, read at ``size`` (default: the real folder's first image)
    with ``channels`` (default: 1 when all are grayscale, else 3).

    ``cross_check=True`` adds torch-fidelity's own FID/KID/IS of the same folders with the same
    Inception (keys ``fid[inception|torch-fidelity]``), for Inception only.
    """
    from PIL import Image

    from ganarium.data.folder import ImageFolderDataset, list_images

    check_metrics(metrics)
    for m in ("modes", "exact"):
        if m in metrics:
            raise GanariumError(f"metric {m!r} needs a run of known data, not two image folders")
    files = list_images(Path(real_dir)) if Path(real_dir).is_dir() else []
    if size is None:
        size = Image.open(files[0]).size[0] if files else 64
    if channels is None:
        channels = _folder_channels(files) if files else 3
    sets = [
        ImageFolderDataset(d, size=size, channels=channels, labelled=False)
        for d in (real_dir, fake_dir)
    ]
    real, fake = (torch.stack([ds[i]["image"] for i in range(len(ds))]) for ds in sets)
    info = DataInfo(name="folder", shape=tuple(real.shape[1:]))
    res = evaluate_samples(
        fake, info, metrics, extractor, real, inception_weights, progress, device=device
    )
    if cross_check:
        if extractor != "inception":
            raise GanariumError("cross_check compares with torch-fidelity's Inception only")
        from ganarium.metrics.inception import fidelity_metrics

        res.update(
            fidelity_metrics(
                real_dir, fake_dir, metrics, weights_path=inception_weights, device=device
            )
        )
    return res


COUNTS = ("step", "modes_covered", "classes_covered")

# what each result measures and which direction is better (keys without their [extractor])
METRIC_HELP: dict[str, str] = {
    "fid": "Fréchet distance between Gaussian fits of sample and real features; lower is better",
    "kid": "kernel (polynomial MMD^2, unbiased) distance of sample and real features; lower is "
    "better, about 0 for the real data",
    "kid_std": "spread of KID over random subsets; n/a when every subset is the whole set",
    "is": "Inception Score: confident yet diverse class predictions; higher is better",
    "is_std": "spread of the Inception Score over splits",
    "precision": "share of samples inside the real data's feature manifold (fidelity); higher "
    "is better",
    "recall": "share of real data inside the samples' feature manifold (diversity); higher is "
    "better",
    "f1": "harmonic mean of precision and recall; higher is better",
    "density": "how many real neighbourhoods hold each sample, about 1 for real data; higher "
    "is better up to about 1",
    "coverage": "share of real neighbourhoods that hold a sample; higher is better",
    "classes_covered": "digit classes the classifier reads in at least a quarter of their fair "
    "share of samples; 10 is all",
    "label_kl": "KL divergence of the read class histogram from uniform; lower is better (0: "
    "balanced)",
    "confidence": "the digit classifier's mean top probability on the samples; higher reads as "
    "clearer digits",
    "modes_covered": "modes of the mixture that receive samples; higher is better",
    "high_quality": "share of samples within 3 std of a mode; higher is better",
    "mode_kl": "KL divergence of the mode histogram from uniform; lower is better",
    "exact_precision": "share of samples within tau of the known data manifold; higher is better",
    "exact_recall": "share of held-out real images the generator reproduces within tau; higher "
    "is better",
    "n_fake": "number of samples evaluated",
    "n_real": "number of real reference images",
    "step": "training step of the evaluated checkpoint",
}


def metric_help(key: str) -> str:
    """One line on what a result key measures (``fid[digit-classifier]`` -> fid's line)."""
    return METRIC_HELP.get(key.removeprefix(FLOOR_PREFIX).split("[")[0], "")


def format_value(key: str, value: Any) -> str:
    """An evaluation result as shown to people: counts (``n_*``, step, modes or classes
    covered) as integers; an undefined value (NaN, None: e.g. a spread over subsets that are all
    the whole set) as ``n/a``; a value that is zero up to floating-point rounding as 0; other
    numbers to 6 significant digits; anything else as text."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else str(value)
    is_count = key.startswith("n_") or key in COUNTS
    if is_count and float(value).is_integer():
        return str(int(value))
    if abs(value) < 1e-12:
        return "0"
    return f"{value:.6g}"


def split_floor(results: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the run's results, the real-data floor by the same keys)."""
    own = {k: v for k, v in results.items() if not k.startswith(FLOOR_PREFIX)}
    floor = {
        k.removeprefix(FLOOR_PREFIX): v for k, v in results.items() if k.startswith(FLOOR_PREFIX)
    }
    return own, floor


def format_table(results: dict[str, Any]) -> str:
    """Aligned columns of ``format_value``: each result, and where the results carry a real-data
    floor (``floor/KEY``), that floor beside it."""
    own, floor = split_floor(results)
    if not own:
        return ""
    width = max(len(k) for k in own)
    if not floor:
        return "\n".join(f"{k:<{width}}  {format_value(k, v)}" for k, v in own.items())
    shown = {k: format_value(k, v) for k, v in own.items()}
    col = max(len(v) for v in shown.values()) + 2
    lines = [f"{'':<{width}}  {'this run':<{col}}real data"]
    for k, v in shown.items():
        f = format_value(k, floor[k]) if k in floor else ""
        lines.append(f"{k:<{width}}  {v:<{col}}{f}".rstrip())
    return "\n".join(lines)


def results_json(results: dict[str, Any]) -> str:
    """Results as strict JSON: NaN (undefined) as null."""
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in results.items()}
    return json.dumps(clean, indent=1)
