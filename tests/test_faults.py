"""The fault table: bad input and faults across every command. Each case must end in one line on
stderr (no traceback) with exit code 2, and must leave an existing good run's checkpoint byte for
byte as it was. docs/reliability.md is rendered from CASES by scripts/fault_table.py."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from conftest import load_script

from ganarium.cli import main

TINY = [
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "model.z_dim=8",
    "train.batch_size=16",
    "train.progress=false",
    "train.tensorboard=false",
    "train.log_every=1",
]


@dataclass(frozen=True)
class Case:
    fault: str  # what the user did, in words (the table's first column)
    argv: tuple[str, ...]  # {run} the good run, {tmp} a scratch folder, {file} a plain file
    says: str  # a fragment of the one-line message


CASES = [
    # -- train: names, keys, types ------------------------------------------------------------
    Case(
        "unknown recipe",
        ("train", "dcgn", "--data", "digits"),
        "unknown recipe 'dcgn'. Did you mean: dcgan",
    ),
    Case("unknown dataset", ("train", "dcgan", "--data", "digitz"), "unknown dataset 'digitz'"),
    Case(
        "unknown config key",
        ("train", "dcgan", "--data", "digits", "lr=1"),
        "unknown config key 'lr'",
    ),
    Case(
        "value of the wrong type",
        ("train", "dcgan", "--data", "digits", "train.steps=x"),
        "wrong type",
    ),
    Case(
        "override before the recipe",
        ("train", "steps=3", "--data", "digits"),
        "is an override, not a recipe",
    ),
    # -- train: ranges --------------------------------------------------------------------------
    Case(
        "negative learning rate",
        ("train", "dcgan", "--data", "digits", "model.lr_g=-1"),
        "a learning rate must be > 0",
    ),
    Case(
        "zero width", ("train", "dcgan", "--data", "digits", "model.g_width=0"), "whole number >= 1"
    ),
    Case(
        "Adam beta outside [0, 1)",
        ("train", "dcgan", "--data", "digits", "model.betas=[0.5,1.5]"),
        "betas must be two numbers in [0, 1)",
    ),
    Case(
        "negative penalty weight",
        ("train", "wgan-gp", "--data", "digits", "model.gp_weight=-10"),
        "a weight must be >= 0",
    ),
    Case(
        "probability above 1",
        ("train", "unetgan", "--data", "digits", "model.cutmix_prob=2"),
        "in [0, 1]",
    ),
    Case(
        "no D steps",
        ("train", "wgan", "--data", "digits", "model.n_critic=0"),
        "model.n_critic=0 is out of range for recipe 'wgan': it must be a whole number >= 1",
    ),
    Case(
        "zero checkpoints kept",
        ("train", "dcgan", "--data", "digits", "train.keep_checkpoints=0"),
        "train.keep_checkpoints=0",
    ),
    Case(
        "negative interval",
        ("train", "dcgan", "--data", "digits", "train.log_every=-1"),
        "0 turns it off",
    ),
    Case(
        "EMA decay of 1.5",
        ("train", "dcgan", "--data", "digits", "train.ema_decay=1.5"),
        "must be in [0, 1)",
    ),
    Case(
        "unknown device",
        ("train", "dcgan", "--data", "digits", "train.device=gpu"),
        "use auto, cpu, cuda",
    ),
    Case(
        "CUDA on a machine without GPU",
        ("train", "dcgan", "--data", "digits", "train.device=cuda"),
        "no CUDA GPU is available",
    ),
    Case(
        "unknown precision",
        ("train", "dcgan", "--data", "digits", "train.amp=fp8"),
        "use none, bf16 or fp16",
    ),
    Case(
        "batch larger than the data",
        ("train", "gan", "--data", "ring8", "train.batch_size=100000"),
        "larger than the dataset",
    ),
    Case(
        "image size out of range",
        ("train", "dcgan", "--data", "digits", "data.size=2"),
        "out of range: use 4..256",
    ),
    Case(
        "more labels per class than examples",
        ("train", "ssgan", "--data", "digits", "data.labels_per_class=100000"),
        "has only",
    ),
    Case(
        "labelled recipe on unlabelled data",
        ("train", "cgan", "--data", "ring8"),
        "needs labelled data",
    ),
    # -- train: paths ---------------------------------------------------------------------------
    Case("folder data without a root", ("train", "dcgan", "--data", "folder"), "needs a root"),
    Case(
        "folder data whose root is missing",
        ("train", "dcgan", "--data", "folder", "data.root={tmp}/none"),
        "does not exist",
    ),
    Case(
        "folder data with no images",
        ("train", "dcgan", "--data", "folder", "data.root={tmp}"),
        "has no images",
    ),
    Case(
        "missing config file",
        ("train", "dcgan", "--data", "digits", "--config", "{tmp}/none.yaml"),
        "does not exist",
    ),
    Case(
        "config file that is not YAML",
        ("train", "dcgan", "--data", "digits", "--config", "{file}"),
        "is not valid YAML",
    ),
    Case(
        "starting into an existing run",
        ("train", "dcgan", "--data", "digits", "--run-dir", "{run}"),
        "already holds a run",
    ),
    Case(
        "run folder under a file",
        ("train", "dcgan", "--data", "digits", "--run-dir", "{file}/run"),
        "is a file",
    ),
    # -- train --resume -------------------------------------------------------------------------
    Case(
        "resume with a recipe name",
        ("train", "dcgan", "--resume", "{run}"),
        "--resume takes no recipe",
    ),
    Case("resume a folder that is no run", ("train", "--resume", "{tmp}"), "is not a ganarium run"),
    Case(
        "resume changing the model",
        ("train", "--resume", "{run}", "model.lr_g=1"),
        "model.lr_g (changes the run)",
    ),
    Case(
        "resume to fewer steps than done",
        ("train", "--resume", "{run}", "train.steps=1"),
        "below the checkpoint's step",
    ),
    # -- sample ---------------------------------------------------------------------------------
    Case(
        "serve a folder that is no run",
        ("serve", "{tmp}"),
        "is not a ganarium run (no config.yaml): pass a run folder",
    ),
    Case("zero samples", ("sample", "{run}", "--n", "0"), "--n 0 must be at least 1"),
    Case("negative samples", ("sample", "{run}", "--n", "-5"), "--n -5 must be at least 1"),
    Case(
        "a count that is no number", ("sample", "{run}", "--n", "abc"), "invalid int value: 'abc'"
    ),
    Case("zero batch size", ("sample", "{run}", "--batch-size", "0"), "--batch-size 0"),
    Case(
        "output under a missing folder",
        ("sample", "{run}", "--out", "{tmp}/a/b/grid.png"),
        "does not exist; create it first",
    ),
    Case(
        "output under a file",
        ("sample", "{run}", "--out", "{file}/grid.png"),
        "is a file, not a folder",
    ),
    Case(
        "output of an unknown kind",
        ("sample", "{run}", "--out", "{tmp}/grid.txt"),
        "use a file ending in",
    ),
    Case(
        "label for an unconditional run",
        ("sample", "{run}", "--label", "3"),
        "not trained with labels",
    ),
    Case(
        "truncation the recipe lacks",
        ("sample", "{run}", "--truncation", "0.5"),
        "does not offer truncation",
    ),
    Case(
        "non-positive truncation",
        ("sample", "{run}", "--truncation", "0"),
        "must be a positive number",
    ),
    Case(
        "code traversal the recipe lacks",
        ("sample", "{run}", "--vary-code", "c1"),
        "does not offer codes",
    ),
    Case("style mixing the recipe lacks", ("sample", "{run}", "--mix"), "does not offer mixing"),
    Case(
        "captions the recipe lacks",
        ("sample", "{run}", "--caption", "a thick 7"),
        "does not offer captions",
    ),
    Case("a canvas the recipe lacks", ("sample", "{run}", "--steps"), "does not offer canvas"),
    Case(
        "instance image that is missing",
        ("sample", "{run}", "--instance", "{tmp}/none.png"),
        "does not offer instances",
    ),
    Case(
        "a walk of one step", ("sample", "{run}", "--interpolate", "1"), "must be at least 2 steps"
    ),
    Case("two grids at once", ("sample", "{run}", "--mix", "--steps"), "use one at a time"),
    Case(
        "a grid written to a folder",
        ("sample", "{run}", "--interpolate", "4", "--out", "{tmp}/"),
        "this grid is one picture",
    ),
    Case("sampling a folder that is no run", ("sample", "{tmp}"), "is not a ganarium run"),
    # -- eval -----------------------------------------------------------------------------------
    Case("evaluating zero samples", ("eval", "{run}", "--n", "0"), "--n 0 must be at least 1"),
    Case(
        "unknown metric",
        ("eval", "{run}", "--metrics", "fdi"),
        "unknown metric 'fdi'. Did you mean: fid",
    ),
    Case("no metric", ("eval", "{run}", "--metrics", ","), "--metrics is empty"),
    Case(
        "a metric the data cannot have",
        ("eval", "{run}", "--metrics", "exact"),
        "needs data whose manifold is known",
    ),
    Case(
        "real folder without fakes",
        ("eval", "--real", "{tmp}"),
        "needs both --real DIR and --fake DIR",
    ),
    Case(
        "fake folder that is missing",
        ("eval", "{run}", "--fake", "{tmp}/none"),
        "does not exist: pass an existing folder",
    ),
    Case(
        "unknown extractor",
        ("eval", "{run}", "--extractor", "pixls", "--n", "8"),
        "unknown feature extractor 'pixls'",
    ),
    Case("nothing to evaluate", ("eval",), "eval needs a RUN_DIR"),
    # -- export, report, info, list -----------------------------------------------------------
    Case(
        "export under a file",
        ("export", "{run}", "--out", "{file}/model"),
        "is a file, not a folder",
    ),
    Case(
        "export of a folder that is no run",
        ("export", "{tmp}", "--out", "{tmp}/m"),
        "is not a ganarium run",
    ),
    Case("report of a folder that is no run", ("report", "{tmp}"), "is not a run directory"),
    Case(
        "report figures asked of a run (they are a study's)",
        ("report", "{run}", "--figures", "{tmp}/figs"),
        "--figures is for study directories",
    ),
    Case(
        "report to a non-HTML file",
        ("report", "{run}", "--out", "{tmp}/r.txt"),
        "use a file ending in .html",
    ),
    Case(
        "info on an unknown recipe",
        ("info", "wgan_gp"),
        "unknown recipe 'wgan_gp'. Did you mean: wgan-gp",
    ),
    Case(
        "list of an unknown family",
        ("list", "--family", "losses"),
        "is no recipe family. Did you mean: loss",
    ),
    Case("unknown command", ("trian",), "invalid choice: 'trian'"),
    Case(
        "unknown option", ("sample", "{run}", "--count", "3"), "unrecognized arguments: --count 3"
    ),
    # -- edit, encode, translate ----------------------------------------------------------------
    Case(
        "edit with a recipe that cannot",
        ("edit", "{run}", "--image", "{png}", "--label", "1"),
        "does not offer edit",
    ),
    Case(
        "edit an image that is missing",
        ("edit", "{run}", "--image", "{tmp}/none.png", "--label", "1"),
        "does not exist: pass an existing file",
    ),
    Case(
        "encode with a recipe that cannot",
        ("encode", "{run}", "--image", "{png}"),
        "does not offer encode",
    ),
    Case(
        "translate with a recipe that cannot",
        ("translate", "{run}", "--image", "{png}", "--out", "{tmp}/t.png"),
        "does not translate images",
    ),
    Case(
        "translate with neither image nor folder",
        ("translate", "{run}", "--out", "{tmp}/t.png"),
        "exactly one of --image FILE or --input DIR",
    ),
    Case(
        "translate an empty folder",
        ("translate", "{run}", "--input", "{tmp}/empty", "--out", "{tmp}/o"),
        "holds no images",
    ),
    # -- study ----------------------------------------------------------------------------------
    Case(
        "unknown study preset",
        ("study", "nosuch", "--out", "{tmp}/study"),
        "unknown study preset 'nosuch'",
    ),
    Case(
        "study spec that is not YAML",
        ("study", "{file}", "--out", "{tmp}/study"),
        "is not valid YAML",
    ),
    Case(
        "study recipe the spec lacks",
        ("study", "small", "--recipes", "dcgn", "--out", "{tmp}/study"),
        "is not in the study's recipes",
    ),
    Case(
        "study output that is a file",
        ("study", "small", "--out", "{file}"),
        "is a file, not a study directory",
    ),
    # -- damaged files ------------------------------------------------------------------------
    Case("a truncated checkpoint", ("sample", "{truncated}"), "unreadable or truncated"),
    Case("a checkpoint that would run code", ("sample", "{evil}"), "refusing to load"),
    Case("a checkpoint of another recipe", ("sample", "{foreign}"), "from recipe 'lsgan'"),
    Case(
        "a corrupt image in the data",
        ("train", "dcgan", "--data", "folder", "data.root={corrupt}"),
        "corrupt image file",
    ),
    Case(
        "a floating-point image in the data",
        (
            "train",
            "dcgan",
            "--data",
            "folder",
            "data.root={floatimg}",
            "data.size=8",
            "train.batch_size=1",
        ),
        "floating-point pixels",
    ),
    Case(
        "a run another process is writing",
        ("train", "--resume", "{locked}", "train.steps=9"),
        "is being written by process",
    ),
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A good run, its damaged copies, a scratch folder, a plain file, a PNG, bad image folders,
    and a run whose lock another process holds."""
    import shutil

    from PIL import Image

    from ganarium.checkpoint import load_checkpoint, save_checkpoint

    root = tmp_path_factory.mktemp("faults")
    run = root / "good"
    argv = ["train", "dcgan", "--data", "digits", *TINY, "train.steps=2", "--run-dir", str(run)]
    assert main(argv) == 0
    tmp = root / "scratch"
    (tmp / "empty").mkdir(parents=True)
    plain = root / "plain.txt"
    plain.write_text("key: [unclosed\n")
    png = root / "digit.png"
    Image.new("L", (16, 16), 40).save(png)
    copies = {}
    for name in ("truncated", "evil", "foreign", "locked"):
        copies[name] = root / name
        shutil.copytree(run, copies[name])
    latest = Path("checkpoints") / "latest.pt"
    (copies["truncated"] / latest).write_bytes((run / latest).read_bytes()[:200])
    with open(copies["evil"] / latest, "wb") as f:
        pickle.dump({"format_version": 1, "x": _Evil()}, f)
    state = load_checkpoint(run / latest)
    state["recipe"] = "lsgan"
    save_checkpoint(copies["foreign"] / latest, state)
    corrupt = root / "corrupt"
    corrupt.mkdir()
    (corrupt / "bad.png").write_bytes(b"\x89PNG not really")
    floatimg = root / "floatimg"
    floatimg.mkdir()
    Image.new("F", (8, 8), 0.5).save(floatimg / "x.tif")
    holder = subprocess.Popen(  # holds the locked copy's writer lock until killed
        [
            sys.executable,
            "-c",
            "import sys, time; from ganarium.rundir import RunDir; "
            "lock = RunDir(sys.argv[1]).acquire_lock(); print('held', flush=True); time.sleep(600)",
            str(copies["locked"]),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    yield {
        "run": run,
        "tmp": tmp,
        "file": plain,
        "png": png,
        "corrupt": corrupt,
        "floatimg": floatimg,
        **copies,
    }
    holder.kill()
    holder.wait()


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/ganarium-pwned",))


def _argv(case: Case, places: dict) -> list[str]:
    return [a.format(**{k: str(v) for k, v in places.items()}) for a in case.argv]


def test_every_command_of_the_cli_has_a_bad_input_case():
    from ganarium.commands import COMMANDS

    missing = sorted(set(COMMANDS.names()) - {c.argv[0] for c in CASES})
    assert not missing, f"commands with no case in the fault table: {missing}"


def test_docs_reliability_is_the_rendering_of_this_table(tmp_path, monkeypatch):
    fault_table = load_script("scripts/fault_table.py")
    root = fault_table.ROOT
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_faults.py").write_text(Path(__file__).read_text())
    monkeypatch.setattr(fault_table, "ROOT", tmp_path)  # rendered into a scratch copy
    monkeypatch.setattr(fault_table, "OUT", tmp_path / "reliability.md")
    fault_table.main()
    assert (tmp_path / "reliability.md").read_text() == (
        root / "docs" / "reliability.md"
    ).read_text(), "docs/reliability.md is stale: run python scripts/fault_table.py"


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_fault_gives_one_line_and_leaves_the_good_run_alone(case, places, capsys):
    checkpoint = places["run"] / "checkpoints" / "latest.pt"
    before = _digest(checkpoint), (places["run"] / "config.yaml").read_text()
    try:
        code = main(_argv(case, places))
    except SystemExit as e:  # argparse's own errors exit from inside parse_known_args
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2, f"exit code {code}: {err}"
    assert case.says in err, err
    assert "\n" not in err and "Traceback" not in err, err
    assert (_digest(checkpoint), (places["run"] / "config.yaml").read_text()) == before
    assert not Path("/tmp/ganarium-pwned").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("train", "wgan_gp", "--data", "digits"),
        ("sample", "/nonexistent/run", "--n", "0"),
        ("sample", "x", "--n", "abc"),
    ],
)
def test_no_traceback_reaches_a_user_of_the_real_command(argv):
    p = subprocess.run(
        [sys.executable, "-m", "ganarium.cli", *argv], capture_output=True, text=True, timeout=300
    )
    err = p.stderr.strip()
    assert p.returncode == 2 and "\n" not in err and "Traceback" not in err, err


# -- faults during training ---------------------------------------------------------------------
def test_a_full_disk_at_checkpoint_time_stops_training_and_keeps_the_last_good_one(
    tmp_path, monkeypatch, capsys
):
    import ganarium.training.checkpoints as checkpoints_module
    from ganarium.checkpoint import load_checkpoint, save_checkpoint

    real_save, calls = save_checkpoint, []

    def full_disk(path, state):
        calls.append(path)
        if state["step"] >= 4:
            raise OSError(28, "No space left on device")
        real_save(path, state)

    monkeypatch.setattr(checkpoints_module, "save_checkpoint", full_disk)
    run = tmp_path / "r"
    argv = ["train", "dcgan", "--data", "digits", *TINY, "train.steps=6"]
    assert main([*argv, "train.checkpoint_every=2", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and "last good checkpoint" in err and "\n" not in err
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["step"] == 2
    assert not list((run / "checkpoints").glob("*.tmp"))


def test_an_unwritable_sample_grid_warns_once_and_training_goes_on(tmp_path, monkeypatch, capsys):
    import ganarium.training.previews as previews_module

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(previews_module, "save_image", no_space)
    run = tmp_path / "r"
    argv = ["train", "dcgan", "--data", "digits", *TINY, "train.steps=4", "train.sample_every=1"]
    assert main([*argv, "--run-dir", str(run)]) == 0
    err = capsys.readouterr().err
    assert err.count("could not write a sample grid") == 1
    assert (run / "checkpoints" / "latest.pt").exists()


def test_a_metrics_line_cut_by_a_kill_is_tolerated_by_report_resume_and_eval(tmp_path, capsys):
    run = tmp_path / "r"
    argv = ["train", "dcgan", "--data", "digits", *TINY, "train.steps=2", "--run-dir", str(run)]
    assert main(argv) == 0
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 3, "loss/D": 0.6')  # the kill came mid-line
    assert main(["report", str(run)]) == 0
    assert main(["eval", str(run), "--metrics", "fid", "--n", "20"]) == 0
    assert main(["train", "--resume", str(run), "train.steps=4"]) == 0
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [int(line.split(",")[0].split(":")[1]) for line in lines] == [1, 2, 3, 4]


def test_sigterm_checkpoints_the_step_it_stopped_at_and_requeue_resumes_exactly(tmp_path):
    from ganarium.checkpoint import load_checkpoint

    run = tmp_path / "pre"
    argv = [sys.executable, "-m", "ganarium.cli", "train", "dcgan", "--data", "digits", *TINY]
    argv += ["train.checkpoint_every=100000", "--run-dir", str(run)]  # saves: stop and end
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # as the tests' torch
    p = subprocess.Popen([*argv, "train.steps=100000"], stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        metrics = run / "metrics.jsonl"
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 128 + signal.SIGTERM, err
    stopped = load_checkpoint(run / "checkpoints" / "latest.pt")["step"]
    assert 3 <= stopped < 100000
    assert f"stopped by SIGTERM at step {stopped}, checkpoint saved" in err
    assert f"ganarium train --resume {run}" in err
    # the requeued job: the same run resumed (with the planned steps cut to something testable)
    total = stopped + 3
    assert main(["train", "--resume", str(run), f"train.steps={total}"]) == 0
    whole = tmp_path / "whole"
    assert main([*argv[3:-2], f"train.steps={total}", "--run-dir", str(whole)]) == 0
    a = load_checkpoint(whole / "checkpoints" / "latest.pt")["model"]
    b = load_checkpoint(run / "checkpoints" / "latest.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path, capsys):
    run = tmp_path / "r"
    argv = ["train", "dcgan", "--data", "digits", *TINY, "train.steps=2", "--run-dir", str(run)]
    assert main(argv) == 0
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    holder = {"pid": int(dead.stdout), "host": "here", "started": "then"}
    (run / ".lock").write_text(json.dumps(holder))
    assert main(["train", "--resume", str(run), "train.steps=3"]) == 0
    assert f"took over the lock of process {dead.stdout.strip()}" in capsys.readouterr().err


def test_array_data_faults_name_the_sample():
    from ganarium.data import DataInfo, TensorDictDataset
    from ganarium.errors import DataError

    info = DataInfo("mine", (1, 4, 4), num_classes=10)
    x = torch.zeros(6, 1, 4, 4)
    for bad, says in (
        (lambda t: t.__setitem__((4, 0, 1, 1), float("inf")), "sample 4 (image) holds NaN or Inf"),
        (lambda t: t.__setitem__((2,), 5.0), "sample 2 (image) has values in [5, 5]"),
    ):
        t = x.clone()
        bad(t)
        with pytest.raises(DataError, match=re.escape(says)):
            TensorDictDataset({"image": t}, info)
    with pytest.raises(DataError, match="sample 1 has label 10, outside 0..9"):
        TensorDictDataset({"image": x, "label": torch.tensor([0, 10, 1, 2, 3, -1])}, info)
