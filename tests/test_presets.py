"""Presets: every shipped preset loads, builds on the meta device at the official parameter
count per player (exact for ``match: exact``, within 0.5% otherwise), with the official shape
multiset where recorded, runs a forward pass on the CPU up to 256x256, and names a command that
`ganarium train` accepts; the loader and the config layering refuse bad files in one line; the
image folder's ``mirror``; docs/reproduce.md is up to date.

The parametrised tests pick up whatever presets exist; the machinery is tested on preset files
written to a temporary folder (``PRESETS_DIR`` monkeypatched), so it is tested with none shipped.
"""

from __future__ import annotations

import copy
import shlex
from pathlib import Path

import pytest
import torch
import yaml
from conftest import load_script
from PIL import Image

import ganarium.presets as presets
from ganarium.cli import build_parser
from ganarium.config import build_config
from ganarium.data import DataInfo
from ganarium.data.folder import ImageFolderDataset, read_image
from ganarium.data.paired import side_shapes
from ganarium.data.stream import BatchStream
from ganarium.errors import ConfigError, GanariumError
from ganarium.models import RECIPES
from ganarium.presets import (
    all_presets,
    build_preset_recipe,
    load_preset,
    player_parameter_counts,
    player_parameters,
    shape_digest,
    within_official,
)

ROOT = Path(__file__).resolve().parents[1]
FORWARD_MAX = 256  # forward passes on the CPU for presets up to this side
FAST_MAX = 64  # above this side a forward pass is marked slow


# -- the checks every preset passes (also run on temporary presets below) ------------------------
_BUILT: dict[tuple[str, str], tuple[dict[str, int], dict[str, str]]] = {}


def built(recipe: str, name: str) -> tuple[dict[str, int], dict[str, str]]:
    """(parameters, shape digest) per player of the preset built on the meta device; built once
    per file content in a session (a net with many spectral norms takes seconds on meta)."""
    path = load_preset(recipe, name).path
    key = (str(path), path.read_text())
    if key not in _BUILT:
        r = build_preset_recipe(recipe, name, device="meta")
        digests = {k: shape_digest(ps) for k, ps in player_parameters(r).items()}
        _BUILT[key] = (player_parameter_counts(r), digests)
    return _BUILT[key]


def check_counts(recipe: str, name: str) -> dict[str, int]:
    """The built per-player counts equal the official ones (within 0.5% unless exact)."""
    p = load_preset(recipe, name)
    official = p.official.get("params")
    assert official, f"preset {p.path} records no official.params"
    built_counts = built(recipe, name)[0]
    assert set(built_counts) == set(official), (
        f"{p.path}: players {sorted(built_counts)} vs {sorted(official)}"
    )
    match = p.official.get("match", "exact")
    for player, n in built_counts.items():
        assert within_official(n, int(official[player]), match), (
            f"{p.path}: {player} has {n:,} parameters, official {official[player]:,} ({match})"
        )
    return built_counts


def check_shapes(recipe: str, name: str) -> None:
    """Each player's multiset of parameter shapes has the official digest, where recorded."""
    p = load_preset(recipe, name)
    digests = built(recipe, name)[1]
    for player, digest in p.official.get("shapes", {}).items():
        assert digests[player] == digest, f"{p.path}: {player}'s shapes differ"


def check_forward(recipe: str, name: str) -> None:
    """Built on the CPU, the preset samples two images of its data's shape (translators:
    translate two inputs of the A side to the B side), finite."""
    torch.manual_seed(0)
    r = build_preset_recipe(recipe, name, device="cpu").eval()
    caps = r.capabilities()
    with torch.no_grad():
        if caps.translate:
            shape_a, shape_b = side_shapes(r.info)
            out = r.translate(torch.rand(2, *shape_a) * 2 - 1, caps.translate[0])
            assert tuple(out.shape) == (2, *shape_b)
        else:
            out = r.generate(2)
            assert tuple(out.shape) == (2, *r.info.shape)
    assert torch.isfinite(out).all()


def check_command(recipe: str, name: str) -> None:
    """``reproduce.command`` is a `ganarium train` line for this preset whose dataset takes the
    preset's data options (the config resolves: model, train and data keys all known)."""
    p = load_preset(recipe, name)
    command = p.reproduce.get("command")
    assert command, f"preset {p.path} has no reproduce.command"
    words = shlex.split(str(command))
    assert words[:2] == ["ganarium", "train"], f"{p.path}: {command!r} is no `ganarium train`"
    args, rest = build_parser().parse_known_args(words[1:])
    assert (args.recipe, args.preset) == (recipe, name) and args.data, command
    overrides = [w for w in rest if "=" in w]
    cfg = build_config(recipe, args.data, overrides, preset=name)
    assert cfg.preset == name


def _largest_side(recipe: str, name: str) -> int | None:
    try:
        info = load_preset(recipe, name).data_info()
    except ConfigError:
        return None  # a broken file: the tests below say why
    shapes = [info.shape, info.shape_b, info.extras.get("shape_a")]
    return max(max(s[1:]) for s in shapes if s)


def _forward_params() -> list:
    out = []
    for r, n in all_presets():
        side = _largest_side(r, n)
        if side is not None and side > FORWARD_MAX:
            continue
        slow = side is None or side > FAST_MAX
        out.append(pytest.param(r, n, id=f"{r}/{n}", marks=[pytest.mark.slow] if slow else []))
    return out


SHIPPED = [pytest.param(r, n, id=f"{r}/{n}") for r, n in all_presets()]


@pytest.mark.parametrize("recipe, name", SHIPPED)
def test_preset_loads_and_its_command_resolves(recipe, name):
    p = load_preset(recipe, name)
    assert p.title and p.source and p.official.get("source")
    check_command(recipe, name)


@pytest.mark.parametrize("recipe, name", SHIPPED)
def test_preset_builds_at_the_official_parameter_count(recipe, name):
    check_counts(recipe, name)


@pytest.mark.parametrize("recipe, name", SHIPPED)
def test_preset_has_the_official_parameter_shapes(recipe, name):
    check_shapes(recipe, name)


@pytest.mark.parametrize("recipe, name", _forward_params())
def test_preset_runs_a_forward_pass_on_the_cpu(recipe, name):
    check_forward(recipe, name)


# -- temporary presets: the machinery -------------------------------------------------------
TINY_MODEL = {"g_width": 8, "d_width": 8, "z_dim": 16}
TINY_INFO = {"shape": [1, 16, 16], "num_classes": 0}


def tiny_nets() -> tuple[int, int, str, str]:
    """DCGAN's G and D at the tiny settings, counted straight from the nets (not through the
    optimizers): (G params, D params, G digest, D digest)."""
    r = RECIPES.get("dcgan")(DataInfo("t", (1, 16, 16)), **TINY_MODEL)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return count(r.G), count(r.D), shape_digest(r.G.parameters()), shape_digest(r.D.parameters())


def tiny_preset(**changes) -> dict:
    g, d, g_digest, d_digest = tiny_nets()
    raw = {
        "title": "DCGAN, tiny (a test preset)",
        "source": "tests/test_presets.py",
        "info": dict(TINY_INFO),
        "model": dict(TINY_MODEL),
        "train": {"batch_size": 8, "steps": 2},
        "data": {"size": 16},
        "official": {
            "params": {"G": g, "D": d},
            "match": "exact",
            "source": "the nets' own parameters",
            "shapes": {"G": g_digest, "D": d_digest},
        },
        "reproduce": {
            "command": "ganarium train dcgan --preset tiny --data digits train.steps=3",
            "data": "none: digits ship with ganarium",
            "expect": "seconds on a CPU",
            "published": "none",
        },
    }
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


@pytest.fixture
def preset_dir(tmp_path, monkeypatch):
    """A temporary PRESETS_DIR; returns write(recipe, name, raw dict or YAML text) -> path."""
    folder = tmp_path / "presets"
    monkeypatch.setattr(presets, "PRESETS_DIR", folder)

    def write(recipe: str, name: str, raw) -> Path:
        path = folder / recipe / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False))
        return path

    return write


def test_a_good_preset_passes_every_check(preset_dir):
    preset_dir("dcgan", "tiny", tiny_preset())
    assert all_presets() == [("dcgan", "tiny")]
    built = check_counts("dcgan", "tiny")
    g, d, _, _ = tiny_nets()
    assert built == {"G": g, "D": d}
    check_shapes("dcgan", "tiny")
    check_forward("dcgan", "tiny")
    check_command("dcgan", "tiny")


def test_the_count_check_is_exact_or_within_half_a_percent(preset_dir):
    g, d, _, _ = tiny_nets()
    preset_dir("dcgan", "off", tiny_preset(official={"params": {"G": g + 1, "D": d}}))
    with pytest.raises(AssertionError, match="G has"):
        check_counts("dcgan", "off")
    near = round(g * 1.004)
    preset_dir(
        "dcgan", "near", tiny_preset(official={"params": {"G": near, "D": d}, "match": "formula"})
    )
    check_counts("dcgan", "near")
    far = round(g * 1.006)
    preset_dir(
        "dcgan", "far", tiny_preset(official={"params": {"G": far, "D": d}, "match": "paper"})
    )
    with pytest.raises(AssertionError, match="G has"):
        check_counts("dcgan", "far")
    preset_dir("dcgan", "lacks", tiny_preset(official={"params": {"G": g}}))
    with pytest.raises(AssertionError, match="players"):
        check_counts("dcgan", "lacks")
    assert within_official(100, 100, "exact") and not within_official(101, 100, "exact")
    assert within_official(1005, 1000, "formula") and not within_official(1006, 1000, "paper")


def test_the_shape_check_catches_other_layers_of_the_same_count(preset_dir):
    g, d, g_digest, d_digest = tiny_nets()
    # the same total, other shapes: a (2, 3) and a (6,) weight have one digest each
    assert shape_digest([torch.zeros(2, 3)]) != shape_digest([torch.zeros(6)])
    assert shape_digest([torch.zeros(2, 3), torch.zeros(4)]) == shape_digest(
        [torch.zeros(4), torch.zeros(2, 3)]
    )
    official = {"params": {"G": g, "D": d}, "shapes": {"G": d_digest}}
    preset_dir("dcgan", "wrong", tiny_preset(official=official))
    with pytest.raises(AssertionError, match="G's shapes differ"):
        check_shapes("dcgan", "wrong")


def one_line_error(call, *words: str) -> str:
    with pytest.raises(GanariumError) as e:
        call()
    message = str(e.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


def test_loader_errors_are_one_line_and_name_the_file(preset_dir):
    preset_dir("dcgan", "tiny", tiny_preset())
    one_line_error(lambda: load_preset("dcgan", "tiyn"), "no preset 'tiyn'", "Did you mean: tiny")
    one_line_error(lambda: load_preset("wgan-gp", "tiny"), "has no preset", "it has none")
    one_line_error(lambda: load_preset("dcgn", "tiny"), "Did you mean: dcgan")
    path = preset_dir("dcgan", "extra", tiny_preset(modle={"g_width": 4}))
    one_line_error(lambda: load_preset("dcgan", "extra"), str(path), "unknown keys ['modle']")
    path = preset_dir("dcgan", "match", tiny_preset(official={"params": {}, "match": "close"}))
    one_line_error(lambda: load_preset("dcgan", "match"), str(path), "official.match='close'")
    path = preset_dir("dcgan", "notitle", tiny_preset(title=None))
    one_line_error(lambda: load_preset("dcgan", "notitle"), str(path), "lacks 'title'")
    path = preset_dir("dcgan", "named", tiny_preset(data={"name": "digits"}))
    one_line_error(lambda: load_preset("dcgan", "named"), str(path), "never chooses the dataset")
    path = preset_dir("dcgan", "listy", tiny_preset(model=[1, 2]))
    one_line_error(lambda: load_preset("dcgan", "listy"), str(path), "'model' must be a mapping")
    path = preset_dir("dcgan", "broken", "title: [unclosed\n")
    one_line_error(lambda: load_preset("dcgan", "broken"), str(path), "not valid YAML")


def test_unknown_keys_in_a_preset_fail_naming_the_file(preset_dir):
    path = preset_dir("dcgan", "m", tiny_preset(model={"g_widht": 8}))
    one_line_error(
        lambda: build_preset_recipe("dcgan", "m"), str(path), "'g_widht'", "Did you mean: g_width"
    )
    one_line_error(lambda: build_config("dcgan", "digits", preset="m"), str(path), "g_widht")
    path = preset_dir("dcgan", "t", tiny_preset(train={"stepz": 2}))
    one_line_error(lambda: build_config("dcgan", "digits", preset="t"), str(path), "stepz")
    path = preset_dir("dcgan", "d", tiny_preset(data={"size": 16, "mirror": True}))
    one_line_error(lambda: build_config("dcgan", "digits", preset="d"), str(path), "mirror")
    assert build_config("dcgan", "folder", preset="d").data.mirror is True
    path = preset_dir("dcgan", "ty", tiny_preset(train={"steps": "many"}))
    one_line_error(lambda: build_config("dcgan", "digits", preset="ty"), str(path), "wrong type")


def test_layers_defaults_preset_config_file_overrides(preset_dir, tmp_path):
    preset_dir("dcgan", "tiny", tiny_preset())
    plain = build_config("dcgan", "digits")
    assert "preset" not in plain  # configs without a preset are as before
    file = tmp_path / "c.yaml"
    file.write_text("train:\n  steps: 3\nmodel:\n  d_width: 6\n")
    cfg = build_config("dcgan", "digits", ["model.d_width=4"], str(file), preset="tiny")
    assert cfg.preset == "tiny" and list(cfg)[:2] == ["recipe", "preset"]
    assert cfg.model.g_width == 8 and cfg.model.z_dim == 16  # the preset's
    assert cfg.train.batch_size == 8 and cfg.data.size == 16  # the preset's
    assert cfg.train.steps == 3  # the file over the preset
    assert cfg.model.d_width == 4  # the override over the file
    assert cfg.model.lr_g == plain.model.lr_g  # what none of them sets keeps its default


def test_a_config_file_may_name_the_preset(preset_dir, tmp_path):
    preset_dir("dcgan", "tiny", tiny_preset())
    preset_dir("dcgan", "other", tiny_preset())
    file = tmp_path / "c.yaml"
    file.write_text("preset: tiny\ntrain:\n  steps: 3\n")
    cfg = build_config("dcgan", "digits", [], str(file))
    assert cfg.preset == "tiny" and cfg.model.g_width == 8 and cfg.train.steps == 3
    assert build_config("dcgan", "digits", [], str(file), preset="tiny").preset == "tiny"
    one_line_error(
        lambda: build_config("dcgan", "digits", [], str(file), preset="other"), "names preset"
    )
    one_line_error(lambda: build_config("dcgan", "digits", ["preset=tiny"]), "--preset NAME")


def test_player_counts_are_the_optimizers_parameters_on_any_device(preset_dir):
    preset_dir("dcgan", "tiny", tiny_preset())
    g, d, _, _ = tiny_nets()
    on_cpu = build_preset_recipe("dcgan", "tiny", device="cpu")
    assert player_parameter_counts(on_cpu) == {"G": g, "D": d}
    assert player_parameter_counts(build_preset_recipe("dcgan", "tiny")) == {"G": g, "D": d}
    assert next(on_cpu.G.parameters()).device.type == "cpu"
    on_cpu.ema["G"] = copy.deepcopy(on_cpu.G)  # as the Trainer keeps it: not counted
    assert player_parameter_counts(on_cpu) == {"G": g, "D": d}


def test_a_preset_builds_for_another_datas_shape(preset_dir):
    preset_dir("dcgan", "tiny", tiny_preset())
    info = DataInfo("rgb", (3, 32, 32))
    r = build_preset_recipe("dcgan", "tiny", info=info)
    assert r.info is info and next(r.G.parameters()).device.type == "meta"
    assert player_parameter_counts(r)["G"] != tiny_nets()[0]


# -- data.mirror on image folders ---------------------------------------------------------------
@pytest.fixture
def halves(tmp_path) -> Path:
    """Eight 8x8 gray images, dark left half and bright right half (a flip is visible)."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(8):
        img = Image.new("L", (8, 8), 10 * i)
        img.paste(255, (4, 0, 8, 8))
        img.save(folder / f"{i}.png")
    return folder


def _flipped(batch: torch.Tensor) -> list[bool]:
    return [bool(x[0, :, 0].mean() > x[0, :, -1].mean()) for x in batch]


def test_mirror_is_off_by_default_and_then_draws_nothing(halves):
    ds = ImageFolderDataset(str(halves), size=8, channels=1)
    state = torch.get_rng_state()
    items = [ds[i]["image"] for i in range(len(ds))]
    assert torch.equal(torch.get_rng_state(), state)
    assert not any(_flipped(torch.stack(items)))
    assert torch.equal(items[0], read_image(ds.files[0], 8, 1))


def test_mirror_flips_half_the_images_the_same_way_with_any_workers(halves):
    ds = ImageFolderDataset(str(halves), size=8, channels=1, mirror=True)
    runs = []
    for workers in (0, 2):
        stream = BatchStream(ds, batch_size=8, seed=3, num_workers=workers)
        runs.append(torch.cat([next(stream)["image"] for _ in range(4)]))
    assert torch.equal(runs[0], runs[1])
    flips = _flipped(runs[0])
    assert 4 <= sum(flips) <= 28  # 32 coins
    plain = torch.stack([ImageFolderDataset(str(halves), 8, 1)[i]["image"] for i in range(8)])
    for x, f in zip(runs[0], flips, strict=True):  # each is one image, mirrored or not
        want = x.flip(-1) if f else x
        assert any(torch.equal(want, p) for p in plain)


# -- docs/reproduce.md ------------------------------------------------------------------------
def _reproduce_doc():
    return load_script("scripts/reproduce_doc.py")


def test_reproduce_page_is_up_to_date():
    page = ROOT / "docs" / "reproduce.md"
    assert page.read_text() == _reproduce_doc().render(lambda r, n: built(r, n)[0]), (
        "docs/reproduce.md is out of date: run python scripts/reproduce_doc.py"
    )


def test_reproduce_page_shows_each_presets_figures_and_command(preset_dir):
    g, d, _, _ = tiny_nets()
    preset_dir("dcgan", "tiny", tiny_preset())
    preset_dir("dcgan", "off", tiny_preset(official={"params": {"G": g + 7, "D": d}}))
    text = _reproduce_doc().render()
    assert "## dcgan: Unsupervised Representation Learning" in text
    assert f"| G | {g:,} | {g:,} | equal | exact |" in text
    assert f"| G | {g + 7:,} | {g:,} | " in text and "(**outside**)" in text
    assert "ganarium train dcgan --preset tiny --data digits train.steps=3" in text
    assert "**Data:** none: digits ship with ganarium" in text
    assert "**Published:** none" in text
