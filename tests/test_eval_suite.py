"""The evaluation suite as an instrument: our numbers equal torch-fidelity's with the same
network, missing Inception weights fail in one line without downloading, mode counts and exact
shapes metrics separate real data from collapse and noise, reference features are cached."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganarium.data import DataInfo, load_dataset
from ganarium.errors import GanariumError
from ganarium.metrics import reference
from ganarium.metrics.evaluate import evaluate_folders, evaluate_samples, format_table
from ganarium.metrics.inception import (
    cross_check,
    fidelity_metrics,
    inception_extractor,
    register_fidelity_extractor,
)
from ganarium.metrics.shapes import compare_with_knn, exact_precision, exact_recall
from ganarium.metrics.stacked import stacked_mode_metrics


def _tiny_class():
    """A small fixed-seed CNN with the torch-fidelity FeatureExtractorBase interface of
    Inception (uint8 N3HW in, a feature layer and unbiased logits out)."""
    from torch_fidelity.feature_extractor_base import FeatureExtractorBase

    class TinyExtractor(FeatureExtractorBase):
        def __init__(self, name, features_list, **kwargs):
            super().__init__(name, features_list)
            g = torch.Generator().manual_seed(0)
            self.conv = nn.Conv2d(3, 8, 3, 2)
            self.head = nn.Linear(32, 5)
            with torch.no_grad():
                for p in self.parameters():
                    p.copy_(torch.randn(p.shape, generator=g))
                self.conv.bias.zero_()  # centred features, so no class wins every image
                self.head.weight.mul_(5)  # logits confident enough for an IS well above 1
            self.requires_grad_(False)

        def forward(self, x):
            x = x.float() / 127.5 - 1  # centred, as Inception's (x - 128) / 128
            h = nn.functional.adaptive_avg_pool2d(torch.tanh(self.conv(x)), 2).flatten(1)
            feats = {"feat": h, "logits_unbiased": self.head(h)}
            return tuple(feats[k] for k in self.features_list)

        @staticmethod
        def get_provided_features_list():
            return "feat", "logits_unbiased"

        @staticmethod
        def get_default_feature_layer_for_metric(metric):
            return {"isc": "logits_unbiased"}.get(metric, "feat")

    return TinyExtractor


@pytest.fixture(scope="module")
def tiny():
    cls = _tiny_class()
    register_fidelity_extractor("ganarium-tiny", cls)
    return cls


def _tiny_extractor(cls):
    from ganarium.metrics.inception import InceptionExtractor

    net = cls("ganarium-tiny", ["feat", "logits_unbiased"])
    return InceptionExtractor(net, "tiny", feature_layer="feat")


def test_our_fid_kid_is_equal_torch_fidelity_with_the_same_extractor(tiny):
    g = torch.Generator().manual_seed(0)
    real = torch.rand(120, 3, 16, 16, generator=g) * 2 - 1
    fake = (torch.rand(120, 3, 16, 16, generator=g) * 2 - 1) * 0.5
    both = cross_check(real, fake, feature_extractor="ganarium-tiny", feature_layer="feat")
    assert set(both) == {"fid", "kid", "is"}
    for name, (ours, theirs) in both.items():
        assert ours == pytest.approx(theirs, rel=1e-3, abs=1e-7), name
    assert both["fid"][0] > 0.01 and both["is"][0] > 1.01  # not a trivially equal pair


def _write_pngs(folder, images):
    folder.mkdir()
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i, a in enumerate(x):
        Image.fromarray(a.squeeze(-1) if a.shape[-1] == 1 else a).save(folder / f"{i:03d}.png")


def test_evaluate_folders_equals_torch_fidelity_on_the_same_pngs(tiny, tmp_path):
    g = torch.Generator().manual_seed(1)
    _write_pngs(tmp_path / "real", torch.rand(40, 3, 12, 12, generator=g) * 2 - 1)
    _write_pngs(tmp_path / "fake", torch.rand(40, 3, 12, 12, generator=g) - 1)
    ours = evaluate_folders(
        str(tmp_path / "real"),
        str(tmp_path / "fake"),
        ["fid", "kid", "is", "pr"],
        extractor=_tiny_extractor(tiny),
        progress=False,
    )
    theirs = fidelity_metrics(
        str(tmp_path / "real"),
        str(tmp_path / "fake"),
        ["fid", "is"],
        feature_extractor="ganarium-tiny",
        label="tiny",
    )
    assert ours["n_real"] == ours["n_fake"] == 40 and "precision[tiny]" in ours
    assert ours["fid[tiny]"] == pytest.approx(theirs["fid[tiny|torch-fidelity]"], rel=1e-3)
    assert ours["is[tiny]"] == pytest.approx(theirs["is[tiny|torch-fidelity]"], rel=1e-3)
    assert "fid[tiny]" in format_table(ours)


def test_missing_inception_weights_give_one_line_and_download_nothing(monkeypatch, tmp_path):
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    attempts = []

    def no_network(*a, **k):
        attempts.append(a)
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(fe, "load_state_dict_from_url", no_network)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))  # no cached download either
    monkeypatch.delenv("GANARIUM_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("GANARIUM_NO_DOWNLOAD", "1")

    def one_line(match, *args):
        with pytest.raises(GanariumError, match=match) as e:
            inception_extractor(*args)
        msg = str(e.value)
        assert "\n" not in msg and "--inception-weights PATH" in msg
        assert "pt_inception-2015-12-05-6726825d.pth" in msg and "GANARIUM_INCEPTION_WEIGHTS" in msg

    one_line("downloads are disabled")
    one_line("does not exist", str(tmp_path / "nope.pth"))
    monkeypatch.setenv("GANARIUM_INCEPTION_WEIGHTS", str(tmp_path / "env.pth"))
    one_line("env.pth does not exist")
    monkeypatch.delenv("GANARIUM_INCEPTION_WEIGHTS")
    assert attempts == []  # nothing was even tried
    monkeypatch.delenv("GANARIUM_NO_DOWNLOAD")
    one_line("could not download")  # online path, network down
    assert len(attempts) == 1


def test_unsafe_or_foreign_weights_are_refused(tmp_path):
    import pickle

    bad = tmp_path / "w.pth"
    bad.write_bytes(pickle.dumps({"x": object()}))
    with pytest.raises(GanariumError, match="refusing Inception weights"):
        inception_extractor(str(bad))
    other = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(10, 4)}, other)
    with pytest.raises(GanariumError, match="not the FID Inception"):
        inception_extractor(str(other))


def test_inception_from_a_local_weights_file(tmp_path, monkeypatch):
    """The whole Inception path offline, with random weights in the FID Inception layout (built
    from torchvision's Inception-v3, whose parameter names the FID weights files use)."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe
    import torchvision

    def no_network(*a, **k):
        raise AssertionError("tried to download")

    monkeypatch.setattr(fe, "load_state_dict_from_url", no_network)
    net = torchvision.models.inception_v3(
        weights=None, aux_logits=False, init_weights=False, num_classes=1008
    )
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(
        {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, path
    )
    monkeypatch.setenv("GANARIUM_INCEPTION_WEIGHTS", str(path))
    ex = inception_extractor()
    assert ex.name == "inception" and "pt_inception" in ex.cache_id
    g = torch.Generator().manual_seed(0)
    real, fake = (torch.rand(4, 3, 8, 8, generator=g) * 2 - 1 for _ in range(2))
    calls = []
    for method in ("features", "logits"):
        orig = getattr(type(ex), method)
        spy = lambda self, x, orig=orig, m=method: calls.append((m, len(x))) or orig(self, x)  # noqa: E731
        monkeypatch.setattr(type(ex), method, spy)
    info = DataInfo(name="rgb", shape=(3, 8, 8))
    res = evaluate_samples(fake, info, ["kid", "is"], "inception", real, str(path), progress=False)
    assert calls == [("features", 4)]  # the real set; fake features and logits came in one pass
    assert {"kid[inception]", "is[inception]", "is_std[inception]"} <= set(
        res
    )  # FID: 2048-d sqrtm, slow
    assert all(np.isfinite(v) for k, v in res.items() if not k.startswith("kid_std"))
    assert np.isnan(res["kid_std[inception]"])  # 4 samples: every KID subset is the whole set


def test_stacked_digits_mode_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("GANARIUM_CACHE", str(tmp_path))
    ds = load_dataset("stacked-digits")  # 25,000 samples at 28x28
    assert ds.info.shape == (3, 28, 28) and ds.info.num_classes == 1000
    x = ds.tensors["image"]
    assert ds.tensors["label"].unique().numel() == 1000
    real = stacked_mode_metrics(x)
    assert real["modes_covered"] >= 990 and real["mode_kl"] < 0.1
    one = stacked_mode_metrics(x[:1].repeat(25_000, 1, 1, 1))  # a generator of one image
    assert one["modes_covered"] == 1 and one["mode_kl"] == pytest.approx(np.log(1000))
    # through the suite, with a held-out reference (test-split digits) from the cache
    res = evaluate_samples(x[:300], ds.info, ["fid", "modes"], progress=False)
    assert "fid[digit-classifier-x3]" in res and res["modes_covered"] > 200


def test_shapes_exact_precision_and_recall():
    size = 20
    real = load_dataset("shapes", n=60, size=size, seed=3).tensors["image"]
    assert exact_precision(real) >= 0.95
    g = torch.Generator().manual_seed(0)
    noise = torch.rand(60, 1, size, size, generator=g) * 2 - 1
    assert exact_precision(noise) <= 0.05
    # an empty canvas is not a (vanishing) triangle: the support has a minimum area
    assert exact_precision(-torch.ones(4, 1, size, size)) == 0.0

    from ganarium.data.shapes import render

    # the data's own generator (z -> triangle) recalls nearly all held-out triangles ...
    renderer = lambda z: render(torch.sigmoid(z).reshape(-1, 3, 2) * 0.8 + 0.1, size)  # noqa: E731
    assert exact_recall(renderer, 6, size, n_real=40) >= 0.9
    # ... a generator of one repeated triangle recalls (almost) none
    single = render(torch.tensor([[[0.2, 0.2], [0.8, 0.3], [0.5, 0.8]]]), size)
    collapsed = lambda z: single.expand(len(z), -1, -1, -1) + 0 * z.sum()  # noqa: E731
    assert exact_recall(collapsed, 6, size, n_real=40) <= 0.1

    ref = load_dataset("shapes", n=200, size=size, seed=4).tensors["image"]
    both = compare_with_knn(real[:30], ref, generator=collapsed, z_dim=6)
    assert both["exact_precision"] >= 0.95 and both["exact_recall"] <= 0.1
    assert 0 <= both["knn_precision"] <= 1 and 0 <= both["knn_recall"] <= 1


def test_reference_features_are_cached_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv("GANARIUM_CACHE", str(tmp_path))

    class Counting:
        name, has_logits = "pixels", False
        calls = 0

        def features(self, images):
            Counting.calls += 1
            return images.flatten(1)

    info = load_dataset("shapes", n=10, size=8).info
    fake = torch.zeros(50, 1, 8, 8)
    first = evaluate_samples(fake, info, ["fid", "kid"], Counting(), progress=False)
    assert Counting.calls == 2 and first["n_real"] == 50  # fake + the held-out reference
    again = evaluate_samples(fake, info, ["fid", "kid"], Counting(), progress=False)
    assert Counting.calls == 3  # only the fake samples were read again
    assert json.dumps(again) == json.dumps(first)  # equal, NaN (undefined kid_std) included
    files = list((tmp_path / "reference").glob("*.npz"))
    assert len(files) == 1 and "shapes" in files[0].name and "-n50-" in files[0].name
    assert not list(tmp_path.rglob("*.tmp"))
    evaluate_samples(fake[:40], info, ["fid"], Counting(), progress=False)  # another n
    assert Counting.calls == 5 and len(list((tmp_path / "reference").glob("*.npz"))) == 2
    with np.load(files[0], allow_pickle=False) as f:  # plain arrays, no pickle
        assert f["features"].dtype == np.float32

    key = reference.reference_key("digits", "x", 4, split="test", resolution=16)
    calls = []
    a = reference.cached_features(key, lambda: calls.append(1) or torch.ones(4, 3))
    b = reference.cached_features(key, lambda: calls.append(1) or torch.ones(4, 3))
    assert len(calls) == 1 and torch.equal(a, b)


def test_evaluate_samples_labels_extractor_and_rejects_misfits():
    digits = load_dataset("digits", size=16)
    test = load_dataset("digits", split="test", size=16).tensors["image"]
    test = test[torch.randperm(len(test), generator=torch.Generator().manual_seed(0))]
    res = evaluate_samples(
        test[:300], digits.info, ["fid", "is", "pr", "modes"], real=test[300:], progress=False
    )
    for key in ("fid[digit-classifier]", "is[digit-classifier]", "precision[digit-classifier]"):
        assert key in res
    assert res["classes_covered"] == 10 and res["n_real"] == 700
    with pytest.raises(GanariumError, match="Did you mean: fid"):
        evaluate_samples(test, digits.info, ["fdi"], real=test)
    with pytest.raises(
        GanariumError, match="'exact' needs data whose manifold is known \\(shapes\\)"
    ):
        evaluate_samples(test, digits.info, ["exact"])
    shapes = load_dataset("shapes", n=10, size=8)
    with pytest.raises(GanariumError, match="'modes' needs data with known modes"):
        evaluate_samples(shapes.tensors["image"], shapes.info, ["modes"])
    with pytest.raises(GanariumError, match="'is' needs class logits"):
        evaluate_samples(shapes.tensors["image"], shapes.info, ["is"])


def test_evaluate_folders_of_gray_pngs(tmp_path):
    test = load_dataset("digits", split="test", size=28).tensors["image"]
    _write_pngs(tmp_path / "real", test[:60])
    _write_pngs(tmp_path / "fake", test[60:120])
    res = evaluate_folders(
        str(tmp_path / "real"),
        str(tmp_path / "fake"),
        ["fid", "kid", "dc"],
        extractor="digit-classifier",
        progress=False,
    )
    assert res["n_real"] == 60 and res["fid[digit-classifier]"] > 0
    assert "coverage[digit-classifier]" in res
    with pytest.raises(GanariumError, match="needs a run of known data"):
        evaluate_folders(str(tmp_path / "real"), str(tmp_path / "fake"), ["modes"])
