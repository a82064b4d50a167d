"""The evaluation and sampling benchmarks at tiny sizes (structure only, never wall time), and the
k-NN radius of precision / recall: the same values blocked or not, and as kthvalue gives."""

import pytest
import torch
from conftest import load_script

from ganarium.cli import main
from ganarium.metrics import prdc as prdc_module
from ganarium.metrics.prdc import kth_neighbour_radius, prdc

eval_throughput = load_script("benchmarks/eval_throughput.py")
sample_speed = load_script("benchmarks/sample_speed.py")


def test_extractor_rate_reports_features_per_second():
    row = eval_throughput.extractor_rate("digit-classifier", (1, 16, 16), 6)
    assert row["extractor"] == "digit-classifier" and row["input"] == "1x16x16"
    assert row["images"] == 6 and row["features"] == 128
    assert row["per_s"] > 0 and row["wall_s"] > 0
    table = eval_throughput.extractor_table([row])
    assert table.splitlines()[0].startswith("| extractor |") and "| digit-classifier |" in table


def test_pr_measure_in_a_subprocess_matches_prdc_in_process():
    row = eval_throughput.pr_measure(40, 3, trimmed=True)
    g = torch.Generator().manual_seed(0)  # the child's features
    real = torch.randn(40, 3, generator=g, dtype=torch.float64)
    fake = torch.randn(40, 3, generator=g, dtype=torch.float64) + 0.1
    assert row["values"] == prdc(real, fake, k=5)
    assert row["peak_mb"] >= row["rss_before_mb"] > 0 and row["added_mb"] >= 0
    assert (row["n"], row["dims"], row["trimmed"]) == (40, 3, True)
    assert "| 40 x 40 | 3 | trimmed |" in eval_throughput.pr_table([row])


def test_knn_radius_is_kthvalue_and_does_not_depend_on_blocks(monkeypatch):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(120, 4, generator=g, dtype=torch.float64)
    x = torch.cat([x, x[:30]])  # duplicates: ties at distance 0 and between rows
    for k in (1, 3, 5):
        want = torch.cdist(x, x).kthvalue(k + 1, dim=1).values
        assert torch.equal(kth_neighbour_radius(x, k), want)
    real, fake = x[:90], torch.randn(80, 4, generator=g, dtype=torch.float64) * 0.9 + 0.2
    whole = prdc(real, fake, k=3)  # one block: a full matrix per pass
    for elements in (1, 7 * 90, 13 * 80):
        monkeypatch.setattr(prdc_module, "BLOCK_ELEMENTS", elements)
        assert prdc(real, fake, k=3) == whole


def test_sample_speed_rows_through_the_cli(tmp_path):
    def in_process(argv: list[str]) -> float:
        assert main(argv) == 0
        return 1.0 + 0.01 * int(argv[argv.index("--n") + 1]) if "--n" in argv else 0.0

    rows = sample_speed.measure_recipe(
        "dcgan tiny",
        "dcgan",
        "digits",
        ["data.size=8", "model.g_width=4", "model.d_width=4", "train.batch_size=4"],
        5,
        tmp_path,
        cli=in_process,
    )
    assert [r["out"] for r in rows] == ["folder", "npz"]
    assert len(list((tmp_path / "dcgan-tiny-5").glob("*.png"))) == 5
    assert rows[0]["startup_s"] == pytest.approx(1.01) and rows[0]["total_s"] == pytest.approx(1.05)
    assert rows[0]["per_image_ms"] == pytest.approx(10.0) and rows[0][
        "images_per_s"
    ] == pytest.approx(100)
    assert rows[0]["g_params"] > 0
    assert (
        "| folder/ (PNG per image) | 1.0 s | 1.1 s (N=5) | 10.00 ms | 100 |"
        in sample_speed.table(rows)
    )
