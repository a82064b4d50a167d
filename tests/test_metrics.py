import numpy as np
import pytest
import torch

from ganarium.data import load_dataset
from ganarium.metrics.digit_classifier import load_digit_classifier, test_accuracy_report
from ganarium.metrics.digits import classifier_accuracy, digit_metrics
from ganarium.metrics.fid import fid_from_features, frechet_distance
from ganarium.metrics.kid import kernel_inception_distance
from ganarium.metrics.toy2d import toy2d_metrics


def test_frechet_distance_matches_closed_form_for_gaussians():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    d1, d2 = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, 4)
    # diagonal covariances commute: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(d1) - sqrt(d2))^2
    closed = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(d1), mu2, np.diag(d2)) == pytest.approx(closed, rel=1e-9)
    # a full (rotated) covariance against itself shifted: only the mean term remains
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    s = q @ np.diag(d1) @ q.T
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(((mu1 - mu2) ** 2).sum(), rel=1e-6)


def test_fid_from_samples_approaches_closed_form():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 3, generator=g)
    b = torch.randn(20000, 3, generator=g) * 2 + 1
    closed = 3 * 1.0 + 3 * (1 - 2) ** 2  # mean term 3, trace term 3 * (1 - 2)^2
    assert fid_from_features(a, b) == pytest.approx(closed, rel=0.03)
    assert fid_from_features(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_unbiased_and_sensitive():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(600, 8, generator=g), torch.randn(600, 8, generator=g)
    same_mean, same_std = kernel_inception_distance(a, b, subsets=50, subset_size=300)
    assert abs(same_mean) < 2 * same_std + 1e-3
    diff_mean, _ = kernel_inception_distance(a, b + 0.5, subsets=50, subset_size=300)
    assert diff_mean > 10 * abs(same_mean) and diff_mean > 0.05


def test_toy2d_metrics_real_and_collapsed():
    ds = load_dataset("ring8", n=4000, seed=5)
    real = toy2d_metrics(ds.tensors["image"], ds.info)
    # in 2-D, P(r < 3 sigma) = 1 - exp(-4.5) = 0.989
    assert (
        real["modes_covered"] == 8
        and real["high_quality"] == pytest.approx(0.989, abs=0.006)
        and real["mode_kl"] < 0.01
    )
    collapsed = torch.tensor([[2.0, 0.0]]).repeat(1000, 1)
    one = toy2d_metrics(collapsed, ds.info)
    assert one["modes_covered"] == 1 and one["high_quality"] == 1.0 and one["mode_kl"] > 1.5
    far = toy2d_metrics(torch.zeros(100, 2), ds.info)
    assert far["modes_covered"] == 0 and far["high_quality"] == 0.0


def test_digit_classifier_accuracy_on_test_split():
    report = test_accuracy_report()
    for size, bar in ((28, 0.96), (16, 0.95)):
        test = load_dataset("digits", split="test", size=size)
        acc = classifier_accuracy(test.tensors["image"], test.tensors["label"])
        assert acc >= bar
        assert acc == pytest.approx(report[f"test_accuracy_{size}"], abs=1e-6)


def test_digit_metrics_separate_real_from_noise():
    train = load_dataset("digits", size=16)
    idx = torch.randperm(4000, generator=torch.Generator().manual_seed(0))[:1000]
    real = digit_metrics(train.tensors["image"][idx], train.tensors["label"][idx])
    noise = digit_metrics(
        torch.rand(1000, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    )
    assert (
        real["classes_covered"] == 10 and real["class_accuracy"] >= 0.96 and real["label_kl"] < 0.02
    )
    assert real["domain_fid"] < 0.05 * noise["domain_fid"]
    ones = train.tensors["image"][train.tensors["label"] == 1][:500]
    assert digit_metrics(ones)["classes_covered"] == 1


def test_classifier_loads_frozen_from_safetensors():
    net = load_digit_classifier("cpu")
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        net(torch.zeros(2, 3, 28, 28))
