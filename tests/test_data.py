import numpy as np
import pytest
import torch
from PIL import Image

from ganarium.data import load_dataset
from ganarium.data.digits import digits_arrays, split_indices
from ganarium.data.stream import BatchStream
from ganarium.data.toy2d import nearest_mode, ring_modes
from ganarium.errors import DataError


def test_digits_split_is_stratified_fixed_and_disjoint():
    _, labels = digits_arrays("all")
    tr1, te1 = split_indices(labels)
    tr2, te2 = split_indices(labels)
    assert np.array_equal(tr1, tr2) and np.array_equal(te1, te2)
    assert len(np.intersect1d(tr1, te1)) == 0 and len(tr1) + len(te1) == 5000
    assert np.bincount(labels[te1]).tolist() == [100] * 10


def test_digits_resize_range_and_info():
    ds = load_dataset("digits", size=16)
    x = ds.tensors["image"]
    assert x.shape == (4000, 1, 16, 16) and ds.info.num_classes == 10
    assert x.min() >= -1 and x.max() <= 1 and x.mean() < -0.5  # mostly black background


def test_labels_per_class_masks_the_rest():
    y = load_dataset("digits", size=16, labels_per_class=10).tensors["label"]
    assert (y >= 0).sum() == 100 and torch.bincount(y[y >= 0]).tolist() == [10] * 10


def test_toy_ring_nearest_mode():
    ds = load_dataset("ring8", n=1000)
    modes = ring_modes()
    idx, dist = nearest_mode(ds.tensors["image"], modes)
    assert torch.equal(idx, ds.tensors["mode"]) and dist.max() < 0.2


def test_folder_labelled_and_unlabelled(tmp_path):
    for c in ("cats", "dogs"):
        (tmp_path / "lab" / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((10, 12, 3), 40 * i, np.uint8)).save(
                tmp_path / "lab" / c / f"{i}.png"
            )
    ds = load_dataset("folder", root=str(tmp_path / "lab"), size=8)
    item = ds[0]
    assert item["image"].shape == (3, 8, 8) and ds.info.num_classes == 2 and item["label"] == 0
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(flat / "a.png")
    assert load_dataset("folder", root=str(flat), size=4, channels=1).info.num_classes == 0


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("folder", root=str(tmp_path / "nope"))
    with pytest.raises(DataError, match="has no images"):
        load_dataset("folder", root=str(tmp_path))
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    ds = load_dataset("folder", root=str(tmp_path))
    with pytest.raises(DataError, match=r"corrupt image file .*bad\.png"):
        ds[0]


def test_torchvision_set_without_files_says_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="data.download=true"):
        load_dataset("mnist", root=str(tmp_path))


def test_unknown_dataset_option():
    with pytest.raises(DataError, match="unexpected keyword"):
        load_dataset("digits", colour=True)


def test_batch_stream_is_seeded_and_resumable():
    ds = load_dataset("ring8", n=100)
    a = BatchStream(ds, 16, seed=3)
    seq = [next(a)["image"] for _ in range(15)]  # crosses two epoch boundaries (6 per epoch)
    b = BatchStream(ds, 16, seed=3)
    for _ in range(8):
        next(b)
    c = BatchStream(ds, 16, seed=3)
    c.load_state_dict(b.state_dict())
    assert all(torch.equal(next(c)["image"], seq[i]) for i in range(8, 15))
    assert not torch.equal(next(BatchStream(ds, 16, seed=4))["image"], seq[0])


def test_batch_stream_loader_path_matches_memory_path():
    ds = load_dataset("ring8", n=64)

    class Plain(torch.utils.data.Dataset):
        info = ds.info

        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds[i]

    fast, slow = BatchStream(ds, 8, seed=1), BatchStream(Plain(), 8, seed=1)
    for _ in range(12):
        assert torch.equal(next(fast)["image"], next(slow)["image"])


@pytest.mark.parametrize("loader", [False, True], ids=["in-memory", "loader"])
def test_a_draw_without_images_takes_labels_at_the_same_positions_and_copies_no_images(loader):
    ds = load_dataset("digits", size=8)

    class Plain(torch.utils.data.Dataset):  # read item by item, through a DataLoader
        info = ds.info

        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds[i]

    source = Plain() if loader else ds
    plain, lean = BatchStream(source, 16, seed=2), BatchStream(source, 16, seed=2)
    for i in range(6):
        full, drawn = next(plain), lean.draw(images=i % 2 == 0)
        assert torch.equal(full["label"], drawn["label"])
        if i % 2 == 0:
            assert torch.equal(full["image"], drawn["image"])
        else:  # shape, dtype and device of the batch's images, and no data of its own
            stand_in = drawn["image"]
            assert stand_in.shape == full["image"].shape and stand_in.dtype == full["image"].dtype
            assert stand_in.stride() == (0, 0, 0, 0) and not stand_in.any()
    assert torch.equal(next(plain)["image"], next(lean)["image"])  # the order went on as one


def test_every_dataset_declares_its_options_and_splits():
    from ganarium.data import DATASETS, dataset_spec

    for name in DATASETS.names():
        spec = dataset_spec(name)  # raises when splits and the split option disagree
        assert spec.takes("split") == bool(spec.splits), name
        assert spec.held_out == ("test" in spec.splits), name
    assert dataset_spec("digits").splits == ("train", "test", "all")
    assert not dataset_spec("ring8").held_out and dataset_spec("ring8").options["n"] == 50_000


def test_in_memory_is_declared_not_probed():
    from torch.utils.data import Dataset

    from ganarium.data import in_memory

    digits = load_dataset("digits", size=8)
    assert in_memory(digits) is digits.tensors
    assert in_memory(load_dataset("digits-thick", size=8)) is None  # read item by item

    class Plain(Dataset):  # any torch Dataset: read one by one, even with a .tensors attribute
        tensors = {"image": torch.zeros(4, 1, 2, 2)}

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"image": self.tensors["image"][i]}

    assert in_memory(Plain()) is None


def test_data_info_declares_typed_fields_and_reads_the_former_extras():
    from ganarium.data import DataInfo

    ring = load_dataset("ring8", n=16).info
    assert len(ring.modes) == 8 and ring.mode_std == 0.02
    pairs = load_dataset("edges2digits", size=8).info
    assert pairs.shape_a == (1, 8, 8) and pairs.baseline
    old = {"name": "x", "shape": [1, 4, 4], "extras": {"shape_a": [3, 4, 4], "std": 0.5}}
    info = DataInfo(**old)  # as checkpoints and exports written before stored it
    assert info.shape_a == (3, 4, 4) and info.mode_std == 0.5
    assert DataInfo(**info.to_dict()) == info and "extras" not in info.to_dict()
    assert info.extras == {"shape_a": (3, 4, 4), "std": 0.5}  # the read-only former view
