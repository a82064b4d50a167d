"""Core metrics against their definitions: closed forms, hand-built inputs, constructed sets.

tests/test_metrics.py and tests/test_eval_suite.py check the same metrics from the other side
(diagonal-covariance FID, KID on samples, real toy and digit data); this file adds the cases
they do not cover: non-commuting covariances, the singular and non-PSD paths of FID, KID and
precision/recall against brute-force definitions, blocked distances, the registry, and digit
metrics on the test split at 28x28.
"""

import math

import numpy as np
import pytest
import torch

from ganarium.data import load_dataset
from ganarium.metrics import METRICS
from ganarium.metrics import prdc as prdc_module
from ganarium.metrics.digit_classifier import FEATURE_DIM, accuracy_report, load_digit_classifier
from ganarium.metrics.digits import digit_metrics
from ganarium.metrics.fid import fid_from_features, frechet_distance, gaussian_stats
from ganarium.metrics.inception_score import inception_score
from ganarium.metrics.kid import kernel_inception_distance, polynomial_mmd2_unbiased
from ganarium.metrics.prdc import density_coverage, f_beta, prdc, precision_recall
from ganarium.metrics.toy2d import toy2d_metrics


def test_registry_names_the_core_metrics():
    for name in ("fid", "kid", "is", "pr", "dc", "prdc", "toy2d", "digits"):
        assert name in METRICS and METRICS.meta(name)["paper"]
    assert METRICS.get("fid") is fid_from_features


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.5 * np.eye(d)


def test_frechet_distance_closed_form_for_non_commuting_2x2():
    # for 2x2 SPD S1, S2: S1 S2 has positive eigenvalues l1, l2, so
    # Tr (S1 S2)^{1/2} = sqrt(l1) + sqrt(l2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))
    rng = np.random.default_rng(0)
    s1, s2 = _spd(rng, 2), _spd(rng, 2)
    assert not np.allclose(s1 @ s2, s2 @ s1)
    mu1, mu2 = rng.normal(size=2), rng.normal(size=2)
    tr_sqrt = math.sqrt(np.trace(s1 @ s2) + 2 * math.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    closed = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(closed, rel=1e-9)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_fid_samples_of_known_gaussians_singular_and_invalid_inputs():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 2, generator=g)
    b = torch.randn(20000, 2, generator=g) * torch.tensor([1.0, 3.0]) + torch.tensor([0.5, 0.0])
    closed = 0.5**2 + (3 - 1) ** 2  # N(0, I) vs N((0.5, 0), diag(1, 9))
    assert fid_from_features(a, b) == pytest.approx(closed, rel=0.03)
    assert fid_from_features(b.numpy(), b) == pytest.approx(0.0, abs=1e-6)
    mu, sigma = gaussian_stats(a)
    assert mu.dtype == sigma.dtype == np.float64 and sigma.shape == (2, 2)
    # fewer samples than dimensions: rank-deficient covariances take the offset fallback
    few = torch.randn(10, 32, generator=g)
    assert math.isfinite(fid_from_features(few, torch.randn(10, 32, generator=g)))
    # a covariance that is not PSD has no real square root: an error, not a silent number
    with pytest.raises(ValueError, match="imaginary"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -1.0]))


def test_kid_equals_brute_force_mmd_and_clips_subset_size():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(5, 3)) + 1

    def k(u, v):
        return (u @ v / 3 + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(xi, yj) for xi in x for yj in y) / 30
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)
    # subset_size above the sample counts is clipped to 5: each subset is all of y and x less
    # one point, so the mean lies within the range of those six leave-one-out values
    loo = [polynomial_mmd2_unbiased(np.delete(x, i, 0), y) for i in range(6)]
    mean, std = kernel_inception_distance(x, y, subsets=3, subset_size=1000)
    assert min(loo) - 1e-12 <= mean <= max(loo) + 1e-12 and std <= max(loo) - min(loo)


def test_kid_near_zero_for_one_distribution_positive_for_two():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(400, 16, generator=g), torch.randn(400, 16, generator=g)
    same, same_std = kernel_inception_distance(a, b, subsets=20, subset_size=200)
    diff, diff_std = kernel_inception_distance(a, b * 1.5, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_std and diff > 5 * diff_std > 0


def test_inception_score_definition():
    k = 4
    one_hot = torch.eye(k).repeat(25, 1)  # confident and balanced in every split
    assert inception_score(one_hot, splits=5, probs=True) == pytest.approx((k, 0.0), abs=1e-9)
    assert inception_score(torch.zeros(50, k), splits=5)[0] == pytest.approx(1.0, abs=1e-12)
    # two classes, p(y|x) = (0.9, 0.1) and (0.1, 0.9): p(y) = (0.5, 0.5), KL = log 2 - H(0.9)
    p = torch.tensor([[0.9, 0.1], [0.1, 0.9]], dtype=torch.float64).repeat(10, 1)
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert inception_score(p.numpy(), splits=1, probs=True)[0] == pytest.approx(
        math.exp(math.log(2) - h), rel=1e-9
    )


def _naive_prdc(real, fake, k):
    """Kynkäänniemi Eq. 1-2 and Naeem Eq. 4-5 with full distance matrices."""
    rr, ff, rf = torch.cdist(real, real), torch.cdist(fake, fake), torch.cdist(real, fake)
    r_real = rr.sort(1).values[:, k]
    r_fake = ff.sort(1).values[:, k]
    inside = rf <= r_real[:, None]  # (R, F)
    return {
        "precision": inside.any(0).double().mean().item(),
        "recall": (rf <= r_fake[None]).any(1).double().mean().item(),
        "density": inside.sum().item() / (k * len(fake)),
        "coverage": (rf.min(1).values <= r_real).double().mean().item(),
    }


def test_prdc_blocked_equals_full_matrices(monkeypatch):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 5, generator=g).double()
    fake = (torch.randn(250, 5, generator=g) * 0.8 + 0.3).double()
    want = _naive_prdc(real, fake, 4)
    monkeypatch.setattr(prdc_module, "BLOCK_ELEMENTS", 7 * 300)  # a handful of rows per block
    got = prdc(real, fake, k=4)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    assert got["f1"] == pytest.approx(f_beta(got["precision"], got["recall"]))


def test_precision_recall_density_coverage_on_constructed_sets():
    g = torch.Generator().manual_seed(1)
    real = torch.randn(1000, 4, generator=g)
    same = precision_recall(real, real)
    assert same == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    far = precision_recall(real, real + 100)
    assert far["precision"] == far["recall"] == far["f1"] == 0.0
    subset = precision_recall(real, real[real.norm(dim=1) < 1.5])  # real's core, nothing else
    assert subset["precision"] == 1.0 and subset["recall"] < 0.6
    core = precision_recall(real, 0.2 * torch.randn(1000, 4, generator=g))  # a tight blob inside
    assert core["precision"] > 0.97 and core["recall"] < 0.3
    twin = density_coverage(real, torch.randn(1000, 4, generator=g))
    assert 0.85 < twin["density"] < 1.15 and twin["coverage"] > 0.9
    assert density_coverage(real, real + 100) == {"density": 0.0, "coverage": 0.0}
    assert f_beta(0.5, 1.0, beta=2) == pytest.approx(5 * 0.5 / (4 * 0.5 + 1))
    with pytest.raises(ValueError, match="more than k"):
        prdc(real[:3], real, k=3)


def test_toy2d_partial_collapse_and_grid():
    ring = load_dataset("ring8", n=2000, seed=1)
    x, which = ring.tensors["image"], ring.tensors["mode"]
    half = toy2d_metrics(x[which < 4], ring.info)  # a generator that found 4 of the 8 modes
    assert half["modes_covered"] == 4 and isinstance(half["modes_covered"], int)
    assert half["mode_kl"] == pytest.approx(math.log(2), abs=0.05)  # smoothing
    grid = load_dataset("grid25", n=5000, seed=1)
    m = toy2d_metrics(grid.tensors["image"], grid.info)
    assert m["modes_covered"] == 25 and m["high_quality"] > 0.98 and m["mode_kl"] < 0.01
    one = toy2d_metrics(grid.tensors["image"][grid.tensors["mode"] == 0], grid.info)
    assert one["modes_covered"] == 1


def test_digit_classifier_and_metrics_on_test_split_at_28():
    net = load_digit_classifier("cpu")
    assert load_digit_classifier("cpu") is net  # cached per device
    x16 = torch.zeros(3, 1, 16, 16)
    assert net.features(x16).shape == (3, FEATURE_DIM) and net(x16).shape == (3, 10)
    assert accuracy_report()["test_accuracy_28"] >= 0.97
    test = load_dataset("digits", split="test", size=28)
    m = digit_metrics(test.tensors["image"], test.tensors["label"])
    assert m["classes_covered"] == 10 and isinstance(m["classes_covered"], int)
    assert m["class_accuracy"] >= 0.96 and m["confidence"] > 0.9 and m["label_kl"] < 0.01
    assert m["domain_fid"] == pytest.approx(0.0, abs=1e-6)  # the reference is this very split
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        digit_metrics(torch.zeros(4, 3, 28, 28))
