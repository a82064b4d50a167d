import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganarium.data import load_dataset
from ganarium.errors import GanariumError
from ganarium.metrics import reference
from ganarium.metrics.evaluate import evaluate_features, evaluate_folders, evaluate_samples
from ganarium.metrics.extractors import FidelityExtractor, inception_extractor
from ganarium.metrics.inception_score import inception_score
from ganarium.metrics.prdc import prdc
from ganarium.metrics.shapes import exact_precision, exact_recall
from ganarium.metrics.stacked import stacked_mode_metrics


def test_inception_score_definition():
    k = 7
    confident = torch.eye(k).repeat(20, 1) * 100  # each split sees every class, confidently
    assert inception_score(confident, splits=5)[0] == pytest.approx(k, rel=1e-6)
    same = torch.randn(1, k).repeat(100, 1)
    assert inception_score(same, splits=5)[0] == pytest.approx(1.0, abs=1e-9)


def test_precision_recall_on_constructed_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(800, 4, generator=g)
    same = prdc(real, real)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0 and same["f1"] == 1.0
    far = prdc(real, real + 50)
    assert far["precision"] == far["recall"] == far["density"] == far["coverage"] == 0.0
    nested = prdc(real, 0.2 * torch.randn(800, 4, generator=g))  # fake: a tight core of real
    assert nested["precision"] > 0.95 and nested["recall"] < 0.5
    twin = prdc(real, torch.randn(800, 4, generator=g))
    assert 0.8 < twin["density"] < 1.25 and twin["coverage"] > 0.9


class TinyExtractor(nn.Module):
    """A small random CNN with the torch-fidelity FeatureExtractorBase interface of Inception."""

    def __init__(self, name, features_list, **kwargs):
        from torch_fidelity.feature_extractor_base import FeatureExtractorBase

        FeatureExtractorBase.__init__(self, name, features_list)
        torch.manual_seed(0)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()
        )
        self.head = nn.Linear(32, 5)
        self.requires_grad_(False)

    def forward(self, x):
        h = self.body(x.float() / 255)
        feats = {"feat": h, "logits_unbiased": self.head(h)}
        return tuple(feats[k] for k in self.features_list)

    @staticmethod
    def get_provided_features_list():
        return "feat", "logits_unbiased"


def _tiny_class():
    from torch_fidelity.feature_extractor_base import FeatureExtractorBase

    return type("GanariumTinyExtractor", (TinyExtractor, FeatureExtractorBase), {})


def test_our_math_matches_torch_fidelity_with_the_same_extractor():
    import torch_fidelity
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

    cls = _tiny_class()
    if "ganarium-tiny" not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor("ganarium-tiny", cls)
    g = torch.Generator().manual_seed(0)
    a = torch.rand(120, 3, 16, 16, generator=g) * 2 - 1
    b = (torch.rand(120, 3, 16, 16, generator=g) * 2 - 1) * 0.5
    ours = FidelityExtractor(cls("ganarium-tiny", ["feat", "logits_unbiased"]), "tiny", "feat")
    res = evaluate_features(ours.features(a), ours.features(b), ["fid", "kid"], "tiny")
    is_mean, _ = inception_score(ours.logits(b), splits=10)

    class U8(torch.utils.data.Dataset):
        def __init__(self, x):
            self.x = ((x + 1) * 127.5).round().to(torch.uint8)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.x[i]

    tf = torch_fidelity.calculate_metrics(
        input1=U8(b),
        input2=U8(a),
        fid=True,
        kid=True,
        isc=True,
        feature_extractor="ganarium-tiny",
        feature_layer_fid="feat",
        feature_layer_kid="feat",
        feature_layer_isc="logits_unbiased",
        kid_subset_size=120,
        kid_subsets=3,
        samples_shuffle=False,
        cuda=False,
        verbose=False,
        cache=False,
        save_cpu_ram=True,
    )
    assert res["fid[tiny]"] == pytest.approx(tf["frechet_inception_distance"], rel=1e-3, abs=1e-6)
    assert res["kid[tiny]"] == pytest.approx(
        tf["kernel_inception_distance_mean"], rel=1e-3, abs=1e-7
    )
    assert is_mean == pytest.approx(tf["inception_score_mean"], rel=1e-3)


def test_missing_inception_weights_give_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.delenv("GANARIUM_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("GANARIUM_NO_DOWNLOAD", "1")
    with pytest.raises(GanariumError, match=r"--inception-weights PATH .*pt_inception-2015-12-05"):
        inception_extractor()
    with pytest.raises(GanariumError, match="does not exist"):
        inception_extractor(str(tmp_path / "nope.pth"))
    monkeypatch.delenv("GANARIUM_NO_DOWNLOAD")
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    def no_network(*a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(fe, "load_state_dict_from_url", no_network)
    with pytest.raises(GanariumError, match="could not load or download"):
        inception_extractor()


def test_unsafe_inception_weights_are_refused(tmp_path):
    import pickle

    bad = tmp_path / "w.pth"
    bad.write_bytes(pickle.dumps({"x": object()}))
    with pytest.raises(GanariumError, match="refusing Inception weights"):
        inception_extractor(str(bad))


def test_stacked_digits_mode_counts():
    ds = load_dataset("stacked-digits", size=16)
    assert ds.info.shape == (3, 16, 16) and ds.info.num_classes == 1000
    real = stacked_mode_metrics(ds.tensors["image"])
    assert real["modes_covered"] >= 990 and real["mode_kl"] < 0.1
    one = stacked_mode_metrics(ds.tensors["image"][:1].repeat(500, 1, 1, 1))
    assert one["modes_covered"] == 1
    res = evaluate_samples(
        ds.tensors["image"][:300], ds.info, ["fid", "modes"], real=ds.tensors["image"][300:600]
    )
    assert "fid[digit-classifier-x3]" in res and res["modes_covered"] > 200


def test_shapes_exact_precision_and_recall():
    ds = load_dataset("shapes", n=60, size=20, seed=3)
    real = ds.tensors["image"]
    assert exact_precision(real) >= 0.95
    noise = torch.rand(60, 1, 20, 20, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert exact_precision(noise) <= 0.05
    from ganarium.metrics.shapes import compare_with_knn

    ref = load_dataset("shapes", n=200, size=20, seed=4).tensors["image"]
    both = compare_with_knn(noise[:30], ref)
    assert both["exact_precision"] <= 0.05 and both["knn_precision"] <= 0.05
    from ganarium.data.shapes import render

    renderer = lambda z: render(torch.sigmoid(z).reshape(-1, 3, 2) * 0.8 + 0.1, 20)  # noqa: E731
    assert exact_recall(renderer, 6, 20, n_real=40) >= 0.9
    single = render(torch.tensor([[[0.2, 0.2], [0.8, 0.3], [0.5, 0.8]]]), 20)
    assert (
        exact_recall(lambda z: single.expand(len(z), -1, -1, -1) + 0 * z.sum(), 6, 20, n_real=40)
        <= 0.1
    )


def test_reference_features_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("GANARIUM_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return torch.ones(4, 3)

    key = {"data": "digits", "extractor": "x", "n": 4}
    a = reference.cached_features(key, compute)
    b = reference.cached_features(key, compute)
    assert len(calls) == 1 and torch.equal(a, b)
    assert not list(tmp_path.rglob("*.tmp"))


def test_evaluate_samples_labels_extractor_and_rejects_misfits():
    test = load_dataset("digits", split="test", size=16).tensors["image"]
    test = test[
        torch.randperm(len(test), generator=torch.Generator().manual_seed(0))
    ]  # split is class-sorted
    res = evaluate_samples(
        test[:300], load_dataset("digits", size=16).info, ["fid", "pr", "modes"], real=test[300:]
    )
    assert (
        "fid[digit-classifier]" in res
        and "precision[digit-classifier]" in res
        and res["classes_covered"] == 10
    )
    with pytest.raises(GanariumError, match="Did you mean: fid"):
        evaluate_samples(test, load_dataset("digits", size=16).info, ["fdi"], real=test)
    with pytest.raises(GanariumError, match="needs the shapes dataset"):
        evaluate_samples(test, load_dataset("digits", size=16).info, ["exact"])


def test_evaluate_folders(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("real", "fake"):
        (tmp_path / name).mkdir()
        for i in range(12):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
                tmp_path / name / f"{i}.png"
            )
    res = evaluate_folders(
        str(tmp_path / "real"), str(tmp_path / "fake"), ["fid", "kid"], extractor="pixels"
    )
    assert res["fid[pixels]"] > 0 and res["n_real"] == 12
