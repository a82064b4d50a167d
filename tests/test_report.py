"""The run report: `ganarium train` writes RUN/report.html, `ganarium report` rewrites it; it holds
the recipe, the training signals as charts (BEGAN's M_global among them), sample grids and the
latest evaluation, all inlined."""

import json
import re
import sys

import pytest

from ganarium.cli import main
from ganarium.report import chart_groups, svg_chart

TINY_BEGAN = [
    "began",
    "--data",
    "digits",
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "model.z_dim=8",
    "train.steps=4",
    "train.batch_size=8",
    "train.log_every=1",
    "train.sample_every=2",
    "train.checkpoint_every=4",
    "train.progress=false",
    "train.tensorboard=false",
]


def test_train_writes_a_report_with_began_progress_signal(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY_BEGAN, "--run-dir", str(run)]) == 0
    assert str(run / "report.html") in capsys.readouterr().out
    page = (run / "report.html").read_text()
    assert "BEGAN: Boundary Equilibrium Generative Adversarial Networks" in page
    titles = re.findall(r'font-weight="bold">([^<]+)</text>', page)
    assert "M_global" in titles and "k_t" in titles and "losses" in titles
    assert titles.index("M_global") < titles.index("losses")  # progress signals come first
    # one M_global point per logged step, as a polyline in its chart
    m_chart = page.split('font-weight="bold">M_global</text>')[1].split("</svg>")[0]
    points = re.search(r'points="([^"]+)"', m_chart).group(1).split()
    assert len(points) == 4
    # sample grids of steps 0, 2 and 4, inlined
    assert page.count("data:image/png;base64,") == 3 and "step 4</figcaption>" in page
    assert "steps trained</th><td>4 of 4" in page
    # the nets with their parameter counts, from recipe.json (the recipe's nets())
    g_params = json.loads((run / "recipe.json").read_text())["nets"]["G"]
    assert f"G {g_params:,} parameters" in page and "offers</th><td>latent_dim, signals" in page


def test_report_command_shows_the_latest_evaluation(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY_BEGAN, "--run-dir", str(run)]) == 0
    (run / "eval.json").write_text(json.dumps({"domain_fid": 123.4567891, "step": 4.0}))
    out = tmp_path / "elsewhere" / "r.html"
    capsys.readouterr()
    assert main(["report", str(run), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    page = out.read_text()
    assert "<h2>Evaluation</h2>" in page and "<th>domain_fid</th><td>123.457</td>" in page


def test_report_of_a_folder_that_is_not_a_run_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not a run directory" in err and "\n" not in err
    assert not (tmp_path / "report.html").exists()


def test_chart_groups_and_chart_skip_non_finite_values():
    records = [
        {"step": 1, "loss/D": 1.0, "loss/G": 2.0, "G/k_t": 0.1, "M_global": 0.5, "sec_per_step": 1},
        {"step": 2, "loss/D": float("nan"), "loss/G": 1.5, "G/k_t": 0.2, "M_global": 0.4},
        {"step": 2, "eval/domain_fid": 80.0, "eval/classes_covered": 9.0},
    ]
    groups = chart_groups(records)
    # progress signals first, each periodic metric on its own scale; then one chart per phase
    assert list(groups) == ["M_global", "domain_fid", "classes_covered", "losses", "G step"]
    declared = chart_groups(records, signals=("classes_covered", "M_global"))
    assert list(declared)[:3] == ["classes_covered", "M_global", "domain_fid"]
    assert groups["losses"]["D"] == [(1.0, 1.0)] and len(groups["losses"]["G"]) == 2
    svg = svg_chart("losses", groups["losses"])
    assert svg.count("<polyline") == 2 and ">D</text>" in svg and ">G</text>" in svg
    flat = svg_chart("flat", {"x": [(0.0, 3.0), (5.0, 3.0)]})  # constant series: no division by 0
    assert "nan" not in flat and "inf" not in flat


def test_the_report_explains_each_metric_beside_its_real_data_floor(tmp_path, capsys):
    run = tmp_path / "run"
    tiny = [a for a in TINY_BEGAN if a not in ("began",)]
    assert main(["train", "dcgan", *tiny[2:], "--data", "digits", "--run-dir", str(run)]) == 0
    assert main(["eval", str(run), "--metrics", "fid,kid,pr,modes", "--n", "200"]) == 0
    out = capsys.readouterr().out
    assert "this run" in out and "real data" in out
    saved = json.loads((run / "eval.json").read_text())
    assert saved["kid_std[digit-classifier]"] is None  # 200 < the subset size: no spread
    assert 0 < saved["floor/fid[digit-classifier]"] < saved["fid[digit-classifier]"]
    page = (run / "report.html").read_text()
    assert "<th>real data</th>" in page and "lower is better" in page
    assert "not comparable with published Inception FIDs" in page
    row = page.split("<th>kid_std[digit-classifier]</th>")[1].split("</tr>")[0]
    assert "<td>n/a</td>" in row
    # the class histogram of the final samples, for labelled data
    assert "<h2>Classes in the final samples</h2>" in page
    hist = page.split("<h2>Classes in the final samples</h2>")[1].split("</svg>")[0]
    assert hist.count("<rect") == 10 and "KL divergence from uniform" in page


def test_figures_are_shown_as_figures():
    from ganarium.metrics.evaluate import format_table, format_value

    assert format_value("kid_std[x]", 3.62416e-15) == "0"
    assert format_value("kid_std[x]", float("nan")) == "n/a" and format_value("x", None) == "n/a"
    assert format_value("classes_covered", 9.0) == "9" and format_value("n_fake", 1000.0) == "1000"
    assert format_value("fid[x]", 12.345678) == "12.3457"
    table = format_table({"fid[x]": 20.0, "floor/fid[x]": 3.3, "step": 4.0})
    assert table.splitlines()[1].split() == ["fid[x]", "20", "3.3"]


def _tag(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _num(element, key: str) -> float:
    return float(element.get(key))


@pytest.mark.parametrize("n_lines", [2, 5, 9])
def test_legends_sit_below_the_plot_inside_the_picture(n_lines):
    """Read from the SVG itself: every line lies in the plot frame; every legend swatch and
    name lies below the frame and its step labels, in its own place, inside the picture."""
    import xml.etree.ElementTree as ET

    lines = {f"series{i}": [(0.0, float(i)), (5.0, float(-i))] for i in range(n_lines)}
    svg = ET.fromstring(svg_chart("losses", lines))
    rects = [e for e in svg.iter() if _tag(e) == "rect"]
    texts = [e for e in svg.iter() if _tag(e) == "text"]
    frame, swatches = rects[0], rects[1:]  # the frame is drawn first, with no fill
    assert frame.get("fill") == "none" and all(r.get("fill") != "none" for r in swatches)
    left, right = _num(frame, "x"), _num(frame, "x") + _num(frame, "width")
    top, bottom = _num(frame, "y"), _num(frame, "y") + _num(frame, "height")
    points = [
        tuple(map(float, xy.split(",")))
        for e in svg.iter()
        if _tag(e) == "polyline"
        for xy in e.get("points").split()
    ]
    assert len(points) == 2 * n_lines
    assert all(left <= x <= right and top <= y <= bottom for x, y in points)
    names = [t for t in texts if t.get("fill")]
    assert sorted(t.text for t in names) == sorted(lines) and len(swatches) == n_lines
    step_labels = [_num(t, "y") for t in texts if not t.get("fill") and _num(t, "y") > bottom]
    lowest_label = max(step_labels)
    assert all(_num(r, "y") > lowest_label for r in swatches)
    assert all(lowest_label < _num(t, "y") <= _num(svg, "height") for t in names)
    assert all(0 <= _num(t, "x") < _num(svg, "width") - 40 for t in names)  # room for a name
    assert len({(_num(t, "x"), _num(t, "y")) for t in names}) == n_lines  # no entry on another


@pytest.mark.slow
def test_the_demo_covers_every_class_evenly_and_beats_its_old_figures(
    tmp_path, monkeypatch, capsys
):
    """`make demo` (about two CPU minutes): all ten digit classes, a near-uniform histogram and
    a domain FID far below the earlier DCGAN demo's 65.9, printed beside the real-data floor."""
    from ganarium import demo

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["demo"])
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "real data" in out
    (run,) = (tmp_path / "runs").iterdir()
    res = json.loads((run / "eval.json").read_text())
    assert res["classes_covered"] == 10 and res["label_kl"] < 0.02
    assert res["fid[digit-classifier]"] < 20  # the earlier DCGAN demo gave 65.9
