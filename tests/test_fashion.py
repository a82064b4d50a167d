"""Fashion-MNIST offline (the Debian package or torchvision's raw files) and the project's
Fashion-MNIST classifier behind domain FID / KID / precision-recall on it."""

import pytest
import torch

from ganarium.data import fashion_mnist as fm
from ganarium.data import load_dataset
from ganarium.errors import DataError

needs_data = pytest.mark.skipif(
    not fm.available(),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)


@needs_data
def test_all_70000_images_with_balanced_labels():
    ds = load_dataset("fashion-mnist", split="all")
    x, y = ds.tensors["image"], ds.tensors["label"]
    assert x.shape == (70_000, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.bincount(y).tolist() == [7000] * 10
    assert ds.info.extractor == "fashion-classifier" and ds.info.domain == "fashion-mnist"
    small = load_dataset("fashion-mnist", split="test", size=16)
    assert small.tensors["image"].shape == (10_000, 1, 16, 16)


@needs_data
def test_torchvision_raw_files_under_data_root_are_read(tmp_path, monkeypatch):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for f in fm.SYSTEM_DIR.glob("*.gz"):
        (raw / f.name).symlink_to(f)
    monkeypatch.setattr(fm, "SYSTEM_DIR", tmp_path / "nowhere")
    fm.fashion_arrays.cache_clear()
    try:
        images, labels = fm.fashion_arrays("test", str(tmp_path))
        assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
    finally:
        fm.fashion_arrays.cache_clear()


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(fm, "SYSTEM_DIR", tmp_path / "nowhere")
    fm.fashion_arrays.cache_clear()
    try:
        with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist") as e:
            load_dataset("fashion-mnist", root=str(tmp_path))
        assert "\n" not in str(e.value)
    finally:
        fm.fashion_arrays.cache_clear()


@needs_data
def test_the_shipped_classifier_reads_the_test_set_as_reported():
    from ganarium.metrics.fashion import accuracy_report, describe, load_fashion_classifier

    report = accuracy_report()
    net = load_fashion_classifier()
    for size in (28, 16):
        ds = load_dataset("fashion-mnist", split="test", size=size)
        x, y = ds.tensors["image"], ds.tensors["label"]
        with torch.no_grad():
            pred = torch.cat([net(x[i : i + 2000]).argmax(1) for i in range(0, len(x), 2000)])
        acc = float((pred == y).float().mean())
        assert acc == pytest.approx(report[f"test_accuracy_{size}"], abs=1e-6)
        assert acc >= 0.88
    assert "test accuracy" in describe() and "not Inception" in describe()


@needs_data
def test_domain_metrics_work_on_fashion_without_inception():
    from ganarium.metrics.evaluate import evaluate_samples

    test = load_dataset("fashion-mnist", split="train", size=16)
    real = test.tensors["image"][:1000]
    noise = torch.rand(1000, 1, 16, 16) * 2 - 1
    opts = {"size": 16}
    good = evaluate_samples(
        real, test.info, ["fid", "kid", "pr", "modes"], progress=False, data_options=opts
    )
    bad = evaluate_samples(
        noise, test.info, ["fid", "pr", "modes"], progress=False, data_options=opts
    )
    assert {
        "fid[fashion-classifier]",
        "kid[fashion-classifier]",
        "precision[fashion-classifier]",
    } <= set(good)
    assert good["fid[fashion-classifier]"] < 0.1 * bad["fid[fashion-classifier]"]
    assert good["classes_covered"] == 10 and good["classifier_test_accuracy"] > 0.88
    assert good["recall[fashion-classifier]"] > 0.5 > bad["recall[fashion-classifier]"]
