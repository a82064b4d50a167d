"""`ganarium study` end to end on both backends (a 2-CPU local Ray, and the process pool):
the same trials give the same table; a killed driver resumes without running a finished trial
twice; a diverging trial is recorded as failed with its message; the report renders.

The small preset is cut to two recipes, one sample and a tenth of its budget here, so each test
takes about a minute on two cores; `ganarium study small` runs the whole of it."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ganarium.study import is_study_dir, write_study_report
from ganarium.study.layout import FIRST_COLUMNS, StudyDir
from ganarium.study.runner import resolve_spec, run_study
from ganarium.study.spec import restrict, spec_from_dict

REPO = Path(__file__).resolve().parents[1]
CUT = ["--recipes", "gan-ns,lsgan", "--datasets", "digits", "--samples", "2"]


def small_cut():
    spec = resolve_spec("small")
    return restrict(spec, ["gan-ns", "wgan-gp"], ["digits", "shapes"], samples=1).scaled(0.1)


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def local_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "local"
    frame = run_study(small_cut(), out, backend="local", cpus=2, echo=quiet)
    return out, frame


def test_local_backend_runs_the_small_preset_and_writes_the_table(local_study):
    out, frame = local_study
    study = StudyDir(out)
    assert is_study_dir(out) and not is_study_dir(out / "trials" / frame.trial[0])
    assert list(frame.columns[: len(FIRST_COLUMNS)]) == FIRST_COLUMNS
    assert len(frame) == 4 and set(frame.status) == {"finished"}, frame[["trial", "error"]]
    assert (frame.steps == frame.planned_steps).all()
    assert frame.groupby("dataset").steps.max().to_dict() == {"digits": 30, "shapes": 60}
    assert frame.objective.notna().all() and (frame.wall_s > 0).all()
    shapes = frame[frame.dataset == "shapes"]
    assert shapes.exact_precision.notna().all() and shapes.exact_f1.notna().all()
    assert set(frame.objective_name) == {"fid[digit-classifier]", "fid[pixels]"}
    assert {"hp.lr", "hp.beta1", "hp.n_disc", "hp.d_norm"} <= set(frame.columns)
    on_disk = pd.read_parquet(study.parquet)
    assert list(on_disk.columns) == list(pd.read_csv(study.csv).columns) == list(frame.columns)
    for trial in frame.trial:  # each trial is an ordinary run
        run = out / "trials" / trial
        assert (run / "config.yaml").exists() and (run / "eval.json").exists()
        assert (run / "checkpoints" / "latest.pt").exists()


def test_ray_backend_gives_the_same_table(local_study, tmp_path):
    pytest.importorskip("ray")
    _, local = local_study
    frame = run_study(
        small_cut(), tmp_path / "ray", backend="ray", cpus=2, report=False, echo=quiet
    )
    assert list(frame.columns) == list(local.columns)
    assert list(frame.trial) == list(local.trial)
    # the same seeded trials on the CPU: the same figures on either backend
    assert frame.objective.tolist() == pytest.approx(local.objective.tolist(), rel=1e-9)
    assert (tmp_path / "ray" / "ray").is_dir()  # Tune's own records


def test_report_renders_for_the_small_preset(local_study):
    out, frame = local_study
    page = write_study_report(out).read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "Fig. 3" in page and "Fig. 4" in page and "Fig. 8" in page
    assert page.count("data:image/png;base64,") >= 3 + 4  # three figures, a grid per best trial
    assert "Next to the paper" in page and "Best trial of each recipe and dataset" in page
    table = page[page.index("<h2>All trials</h2>") :]
    assert table.count("<tr") == len(frame) + 1 and 'onclick="sortBy(this)"' in table
    assert 'src="http' not in page and "<link" not in page  # self-contained
    assert "test accuracy" in page  # the feature network's accuracy beside its figures


def test_report_command_writes_study_html_for_a_study_dir(local_study, tmp_path, capsys):
    from ganarium.cli import main

    out, _ = local_study
    figs = tmp_path / "figs"
    assert (
        main(["report", str(out), "--out", str(tmp_path / "s.html"), "--figures", str(figs)]) == 0
    )
    assert "Fig. 4" in (tmp_path / "s.html").read_text()
    assert capsys.readouterr().out.strip().endswith("s.html")
    names = {"distributions.png", "budget.png", "precision_recall.png"}
    assert {p.name for p in figs.iterdir()} == names
    assert all((figs / n).read_bytes().startswith(b"\x89PNG") for n in names)


def test_a_diverging_trial_is_recorded_as_failed_and_the_study_goes_on(tmp_path):
    raw = {
        "name": "diverge",
        "recipes": {"lsgan": {"fixed": {"model.lr_g": 1e10, "model.lr_d": 1e10}}, "gan-ns": {}},
        "datasets": {"digits": {"options": {"size": 16}}},
        "fixed": {"model.net": "infogan", "model.g_width": 8, "model.d_width": 8},
        "samples": 1,
        "budget": {"steps": 10},
        "metrics": {"end": ["fid"], "n": 200},
    }
    frame = run_study(spec_from_dict(raw), tmp_path / "d", backend="local", cpus=2, echo=quiet)
    by = frame.set_index("recipe")
    assert by.loc["lsgan", "status"] == "failed" and by.loc["gan-ns", "status"] == "finished"
    assert re.match(
        r"DivergenceError: training diverged at step \d+: the [DG] loss is (nan|inf)",
        by.loc["lsgan", "error"],
    )
    assert "\n" not in by.loc["lsgan", "error"]


def _events(out: Path) -> list[dict]:
    return [
        json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()
    ]


def _alive(pid: int) -> bool:
    """Running (a zombie left to an init that does not reap is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _kill_mid_way_then_continue(backend: str, out: Path) -> pd.DataFrame:
    cmd = [
        sys.executable,
        "-m",
        "ganarium.cli",
        "study",
        "small",
        *CUT,
        "--budget",
        "0.4",
        "--backend",
        backend,
        "--cpus",
        "2",
        "--out",
        str(out),
        "--no-report",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    driver = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    study = StudyDir(out)
    deadline = time.time() + 400
    while time.time() < deadline:  # one trial done, another one checkpointed but not done
        time.sleep(0.5)
        done = list(study.outcomes.glob("*.json")) if study.outcomes.exists() else []
        saved = list(study.trials.glob("*/checkpoints/latest.pt")) if study.trials.exists() else []
        if done and len(saved) > len(done):
            break
    else:
        driver.kill()
        pytest.fail("the study never got half-way")
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    finished_before = {e["trial"] for e in _events(out) if e["event"] in ("finished", "failed")}
    assert 0 < len(finished_before) < 4
    time.sleep(3)  # trial processes die with the driver
    for pid in {e["pid"] for e in _events(out) if e["event"] == "start"}:
        assert not _alive(pid), f"trial process {pid} outlived the driver"
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    events = _events(out)
    for trial in finished_before:  # a finished trial never runs again
        ends = [
            i
            for i, e in enumerate(events)
            if e["trial"] == trial and e["event"] in ("finished", "failed")
        ]
        assert len(ends) == 1
        assert not any(
            e["trial"] == trial and e["event"] in ("start", "resume") for e in events[ends[0] :]
        )
    assert any(
        e["event"] == "resume" for e in events
    )  # the interrupted one went on from its checkpoint
    frame = study.read_table()
    assert sorted(frame.trial) == sorted(set(frame.trial)) and len(frame) == 4
    assert set(frame.status) == {"finished"}
    return frame


def test_killed_local_study_resumes_without_running_a_finished_trial_twice(tmp_path):
    _kill_mid_way_then_continue("local", tmp_path / "k")


@pytest.mark.slow
def test_killed_ray_study_resumes_without_running_a_finished_trial_twice(tmp_path):
    pytest.importorskip("ray")
    _kill_mid_way_then_continue("ray", tmp_path / "k")


def test_asha_stops_hopeless_trials_through_the_trainer(tmp_path):
    raw = {
        "name": "asha",
        "recipes": ["gan-ns"],
        "datasets": {"digits": {"options": {"size": 16}}},
        "fixed": {"model.net": "infogan", "model.g_width": 8, "model.d_width": 8},
        "search": {"lr": {"log_uniform": [1e-5, 1e-2], "keys": ["model.lr_g", "model.lr_d"]}},
        "samples": 5,
        "budget": {"steps": 40},
        "metrics": {
            "end": ["fid"],
            "n": 200,
            "during": {"every_steps": 10, "metrics": ["fid"], "n": 200},
        },
        "asha": {"enabled": True, "grace_steps": 10, "eta": 2},
    }
    frame = run_study(spec_from_dict(raw), tmp_path / "a", backend="local", cpus=2, echo=quiet)
    stopped = frame[frame.status == "stopped"]
    assert len(stopped) >= 1 and (frame.status != "failed").all()
    # a stopped trial ended itself: checkpoint at its step, end-of-trial metrics, its rungs
    assert (stopped.steps < stopped.planned_steps).all() and stopped.objective.notna().all()
    for _, row in stopped.iterrows():
        assert (tmp_path / "a" / row.run_dir / "checkpoints" / f"step_{row.steps:06d}.pt").exists()
        assert json.loads(row.asha_rungs)
