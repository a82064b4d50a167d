"""Metrics of image-to-image translation, shared by the paired and unpaired recipes.

- ``psnr``: peak signal-to-noise ratio, 10 log10(range^2 / MSE) per image, averaged.
- ``ssim``: structural similarity (Wang et al. 2004) by ``pytorch_msssim`` (Gaussian window,
  sigma 1.5, 11 px or the largest odd size that fits small images), averaged.
- ``fid_to_target``: FID (Heusel et al. 2017) of translated images against the target domain's
  images, with a named extractor (``digit-classifier`` for digits).
- ``content_kept``: the fraction of outputs in which the project's digit classifier reads the
  source digit's label.
- ``domain_accuracy``: the fraction of outputs a target-domain classifier (for unpaired
  recipes: one trained on A vs B by ``train_domain_classifier``) calls the target domain.
- ``colourfulness``: Hasler & Suesstrunk's colourfulness, for colorization (gray scores 0).
- ``baseline_outputs``: a task's trivial answer (``identity``, ``bicubic`` upsampling,
  ``mean-fill`` of the hole, ``gray``: the lightness with no colour), which a translator must beat.
- ``translation_metrics``: all of these for a translator on a held-out paired dataset, with
  the baseline's figures next to them (``ganarium eval`` and the learning checks use it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from ganarium.data import DataInfo, in_memory
from ganarium.data.transforms import to_channels
from ganarium.errors import GanariumError
from ganarium.models import Recipe
from ganarium.nn.color import net_lab_to_rgb

BATCH = 250


def psnr(x: Tensor, y: Tensor, data_range: float = 2.0) -> float:
    """Mean per-image PSNR in dB of (N, C, H, W) ``x`` against ``y`` (values spanning
    ``data_range``: 2 for [-1, 1]); a perfect image counts as 100 dB."""
    mse = (x.float() - y.float()).pow(2).flatten(1).mean(1)
    db = 10 * torch.log10(data_range**2 / mse.clamp_min(1e-10))
    return float(db.clamp(max=100).mean())


def ssim(x: Tensor, y: Tensor) -> float:
    """Mean SSIM of (N, C, H, W) images in [-1, 1] (pytorch_msssim, data range 1 after mapping
    to [0, 1]); the window shrinks to the largest odd size <= min(H, W) for small images."""
    from pytorch_msssim import ssim as _ssim

    side = min(x.shape[-2:])
    win = min(11, side if side % 2 else side - 1)
    if win < 3:
        raise GanariumError(f"SSIM needs images of at least 3x3, got {tuple(x.shape[-2:])}")
    to_unit = lambda t: ((t.float().cpu() + 1) / 2).clamp(0, 1)  # noqa: E731
    return float(_ssim(to_unit(x), to_unit(y), data_range=1.0, win_size=win))


def features(images: Tensor, extractor: str) -> Tensor:
    """(N, F) features of images in [-1, 1] by the named extractor."""
    from ganarium.metrics.evaluate import extract, get_extractor

    return extract(get_extractor(extractor), images, False, False, "features")[0]


def fid_to_target(outputs: Tensor, targets: Tensor, extractor: str = "digit-classifier") -> float:
    """FID of translated ``outputs`` against target-domain ``targets`` (both (N, C, H, W))."""
    from ganarium.metrics.fid import fid_from_features

    return float(fid_from_features(features(targets, extractor), features(outputs, extractor)))


def content_kept(outputs: Tensor, labels: Tensor) -> float:
    """Fraction of outputs (N, 1 or 3, H, W) whose digit the project's classifier reads as the
    source ``labels`` (RGB outputs are read in luma)."""
    from ganarium.metrics.digits import classifier_accuracy

    return classifier_accuracy(to_channels(outputs.float().cpu(), 1), labels)


class DomainClassifier(nn.Module):
    """A small CNN, (N, C, H, W) -> logit of "target domain" (N,)."""

    def __init__(self, channels: int, width: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(2 * width, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x).squeeze(1)


def train_domain_classifier(
    source: Tensor, target: Tensor, steps: int = 300, batch: int = 64, seed: int = 0
) -> DomainClassifier:
    """A ``DomainClassifier`` trained (Adam 1e-3, seeded) to tell ``target`` images (1) from
    ``source`` images (0); both (N, C, H, W) with the same C, H, W. Returned in eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        clf = DomainClassifier(target.shape[1])
    opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
    half = batch // 2
    for _ in range(steps):
        i = torch.randint(0, len(source), (half,), generator=g)
        j = torch.randint(0, len(target), (half,), generator=g)
        x = torch.cat([source[i], target[j]]).float()
        y = torch.cat([torch.zeros(half), torch.ones(half)])
        loss = F.binary_cross_entropy_with_logits(clf(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return clf.eval().requires_grad_(False)


@torch.no_grad()
def domain_accuracy(classifier: nn.Module, outputs: Tensor) -> float:
    """Fraction of ``outputs`` the domain classifier calls the target domain (logit > 0)."""
    logits = torch.cat(
        [classifier(outputs[i : i + BATCH].float()) for i in range(0, len(outputs), BATCH)]
    )
    return float((logits > 0).float().mean())


def colourfulness(images: Tensor) -> float:
    """Mean colourfulness (Hasler & Suesstrunk 2003, "Measuring colourfulness in natural
    images", Eq. 4) of (N, 3, H, W) RGB images in [-1, 1], on the 0..255 scale; 0 for gray."""
    x = (images.float().cpu() + 1) * 127.5
    r, g, b = x[:, 0].flatten(1), x[:, 1].flatten(1), x[:, 2].flatten(1)
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
    mean = (rg.mean(1).pow(2) + yb.mean(1).pow(2)).sqrt()
    return float((spread + 0.3 * mean).mean())


def baseline_outputs(
    kind: str,
    a: Tensor,
    shape_b: tuple[int, ...],
    mask: Tensor | None = None,
    fill: Tensor | None = None,
) -> Tensor | None:
    """The trivial translation of inputs ``a`` (N, C_A, h, w) to B's ``shape_b``, None for
    ``none`` (inputs that are no image, e.g. one-hot label maps):
    ``identity`` (A itself, channels converted), ``bicubic`` (A upsampled to B's size),
    ``mean-fill`` (the hole where ``mask`` is 1 filled with ``fill``, the mean training target,
    (C, H, W)), ``gray`` (A's Lab lightness with no colour, as RGB)."""
    c, h, w = shape_b
    if kind == "none":
        return None
    if kind == "identity":
        out = to_channels(a, c)
        return out if out.shape[-2:] == (h, w) else F.interpolate(out, size=(h, w), mode="nearest")
    if kind == "bicubic":
        return F.interpolate(to_channels(a, c), size=(h, w), mode="bicubic").clamp(-1, 1)
    if kind == "mean-fill":
        if mask is None or fill is None:
            raise GanariumError("the mean-fill baseline needs the data's hole masks")
        return a * (1 - mask) + fill.to(a) * mask
    if kind == "gray":
        return net_lab_to_rgb(a[:, :1], torch.zeros(len(a), 2, *a.shape[-2:]))
    raise GanariumError(
        f"unknown translation baseline {kind!r}: use identity, bicubic, mean-fill, gray or none"
    )


def as_tensors(dataset: Dataset, n: int | None = None) -> dict[str, Tensor]:
    """The first ``n`` samples of a dataset (all by default) as stacked tensors."""
    tensors = in_memory(dataset)
    count = len(dataset) if n is None else min(n, len(dataset))  # type: ignore[arg-type]
    if tensors is not None:
        return {k: v[:count] for k, v in tensors.items()}
    items = [dataset[i] for i in range(count)]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


@torch.no_grad()
def translate_all(recipe: Recipe, images: Tensor, direction: str = "AtoB") -> Tensor:
    """``recipe.translate`` over ``images`` in batches, on the CPU."""
    return torch.cat(
        [
            recipe.translate(images[i : i + BATCH], direction).float().cpu()
            for i in range(0, len(images), BATCH)
        ]
    )


def translation_metrics(
    recipe: Recipe,
    held_out: Dataset,
    info: DataInfo,
    extractor: str | None = None,
    n: int | None = None,
    train_targets: Tensor | None = None,
) -> dict[str, float]:
    """PSNR, SSIM, FID to the target domain (``extractor``; None: skip), and the content kept
    (with labels) of ``recipe``'s A -> B translations of ``held_out``, and the same figures for
    the data's baseline (``info.baseline``; ``train_targets`` give mean-fill's mean).
    Keys: psnr, ssim, fid[<extractor>], label_kept, and baseline_<key> for each."""
    data = as_tensors(held_out, n)
    a, b = data["image"], data["image_b"]
    out = translate_all(recipe, a)
    if out.shape[1:] != b.shape[1:]:
        raise GanariumError(
            f"recipe {recipe.name!r} translates to {tuple(out.shape[1:])} but the targets are "
            f"{tuple(b.shape[1:])}: evaluate on the data it was trained on"
        )
    results: dict[str, float] = {"n_pairs": float(len(a))}
    kind = info.baseline or "identity"
    fill = train_targets.float().mean(0) if train_targets is not None else b.float().mean(0)
    base = baseline_outputs(kind, a, tuple(b.shape[1:]), data.get("mask"), fill)
    for prefix, x in (("", out), ("baseline_", base)):
        if x is None:
            continue
        results[f"{prefix}psnr"] = psnr(x, b)
        results[f"{prefix}ssim"] = ssim(x, b)
        if extractor is not None:
            results[f"{prefix}fid[{extractor}]"] = fid_to_target(x, b, extractor)
        if "label" in data:
            results[f"{prefix}label_kept"] = content_kept(x, data["label"])
    return results


def evaluate_translation(
    recipe: Recipe,
    held_out: Dataset,
    metrics: list[str],
    n: int = 10000,
    extractor: str = "auto",
    inception_weights: str | None = None,
    device: str = "cpu",
    progress: bool = True,
    train: Dataset | None = None,
) -> dict[str, float]:
    """``ganarium eval`` of a translation run: every direction the recipe offers, on up to ``n``
    held-out examples. Keys (``BtoA/`` prefixed for the reverse direction):

    - paired data: ``psnr``, ``ssim`` against the targets, and ``baseline_psnr`` /
      ``baseline_ssim`` of the data's trivial baseline (``info.baseline``);
    - data with digit labels: ``label_kept`` (the source digit read in the output);
    - feature ``metrics`` (fid, kid, pr, dc) of the outputs against the target side's held-out
      images, with ``extractor`` (``auto``: the data's), keyed as ``fid[<extractor>]``;
    - unpaired data with ``train``: ``domain_accuracy``, outputs called the target domain by a
      classifier trained on the training split's two sides.
    """
    from ganarium.metrics.evaluate import extract, feature_metrics, get_extractor

    info = recipe.info
    data = as_tensors(held_out, n)
    train_data = as_tensors(train, 4000) if train is not None else None
    wanted = [m for m in metrics if m in ("fid", "kid", "pr", "dc")]
    ex = get_extractor(
        info.extractor if extractor == "auto" else extractor, inception_weights, device
    )
    results: dict[str, float] = {"n_pairs": float(len(data["image"]))}
    for direction in recipe.capabilities().translate:
        src, dst, lab = (
            ("image", "image_b", "label")
            if direction == "AtoB"
            else ("image_b", "image", "label_b")
        )
        prefix = "" if direction == "AtoB" else f"{direction}/"
        out = translate_all(recipe, data[src], direction)
        target = data[dst]
        if info.pairing == "paired" and out.shape[1:] == target.shape[1:]:
            results[f"{prefix}psnr"], results[f"{prefix}ssim"] = (
                psnr(out, target),
                ssim(out, target),
            )
            if direction == "AtoB" and info.baseline != "none":
                kind = info.baseline or "identity"
                fill = (train_data or data)["image_b"].float().mean(0)
                base = baseline_outputs(
                    kind, data["image"], tuple(target.shape[1:]), data.get("mask"), fill
                )
                results["baseline_psnr"], results["baseline_ssim"] = (
                    psnr(base, target),
                    ssim(base, target),
                )
        if lab in data:
            results[f"{prefix}label_kept"] = content_kept(out, data[lab])
        if wanted:
            real_f = extract(ex, target, False, progress, "real")[0]
            fake_f = extract(ex, out, False, progress, "translated")[0]
            results.update(
                {
                    f"{prefix}{k}": v
                    for k, v in feature_metrics(real_f, fake_f, wanted, ex.name).items()
                }
            )
        if info.pairing == "unpaired" and train_data is not None:
            source = to_channels(train_data[src].float(), target.shape[1])
            if source.shape[-2:] == target.shape[-2:]:
                clf = train_domain_classifier(source, train_data[dst].float())
                results[f"{prefix}domain_accuracy"] = domain_accuracy(clf, out)
    return results
