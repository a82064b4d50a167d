"""The study spec, its search space and trials, ASHA's rule and the command's refusals (fast: no
training)."""

import math

import numpy as np
import pytest
import yaml

from ganarium.cli import main
from ganarium.errors import ConfigError, GanariumError
from ganarium.study.asha import Rungs
from ganarium.study.layout import StudyDir
from ganarium.study.presets import PRESETS, preset
from ganarium.study.runner import check_same_protocol, resolve_spec
from ganarium.study.space import parse_distribution, set_key
from ganarium.study.spec import restrict, spec_from_dict
from ganarium.study.trials import expand, validate_spec

BASE = {
    "name": "t",
    "recipes": {"gan-ns": {}, "wgan-gp": {"search": {"gp_weight": {"log_uniform": [0.1, 100]}}}},
    "datasets": {"digits": {"options": {"size": 16}}},
    "fixed": {"model.net": "infogan", "model.g_width": 8, "model.d_width": 8},
    "search": {
        "lr": {"log_uniform": [1e-5, 1e-2], "keys": ["model.lr_g", "model.lr_d", "model.lr"]},
        "beta1": {"uniform": [0, 1], "keys": "model.betas[0]"},
        "n_disc": {"choice": [1, 5], "keys": "model.n_critic"},
    },
    "samples": 4,
    "budget": {"epochs": 2, "epoch_images": 640},
    "metrics": {"end": ["fid", "pr"], "n": 100},
}


def _spec(**changes):
    return spec_from_dict({**BASE, **changes})


def test_trials_are_deterministic_with_defaults_first_and_ranges_kept():
    spec = _spec()
    infos = validate_spec(spec)
    a, b = expand(spec, infos), expand(spec, infos)
    assert [t.to_dict() for t in a] == [t.to_dict() for t in b]
    assert [t.id for t in a][:4] == [f"gan-ns-digits-00{i}-r0" for i in range(4)]
    first = a[0]
    assert first.params == {"beta1": 0.5, "lr": 2e-4, "n_disc": 1}  # gan-ns's own defaults
    assert not any(o.startswith("model.lr_g") for o in first.overrides)
    drawn = [t for t in a if t.sample > 0]
    assert all(1e-5 <= t.params["lr"] <= 1e-2 and t.params["n_disc"] in (1, 5) for t in drawn)
    wgp = [t for t in drawn if t.recipe == "wgan-gp"]
    assert all(0.1 <= t.params["gp_weight"] <= 100 for t in wgp)
    assert all("gp_weight" not in t.params for t in a if t.recipe == "gan-ns")
    one = wgp[0]
    assert f"model.lr_g={one.params['lr']!r}" in one.overrides
    betas = next(o for o in one.overrides if o.startswith("model.betas="))
    assert yaml.safe_load(betas.split("=", 1)[1])[1] == 0.9  # beta2 kept from the recipe
    assert one.steps == 20 and a[0].seed != a[1].seed  # 2 epochs x 640 images / batch 64


def test_budget_scale_and_restrict():
    spec = _spec().scaled(0.5)
    trials = expand(spec, validate_spec(spec))
    assert {t.steps for t in trials} == {10}
    small = restrict(spec, recipes=["wgan-gp"], samples=2, seeds=3)
    assert len(expand(small, validate_spec(small))) == 6
    with pytest.raises(GanariumError, match="not in the study's recipes"):
        restrict(spec, recipes=["dcgan"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"recipes": {"gan-nss": {}}}, "unknown recipe 'gan-nss'.*Did you mean: gan-ns"),
        ({"datasets": {"digitz": {}}}, "unknown dataset 'digitz'"),
        ({"fixed": {"model.lr_gg": 1}}, "no recipe has key 'model.lr_gg'.*lr_g"),
        (
            {"search": {"lr": {"log_normal": [1, 2]}}},
            "exactly one distribution.*Did you mean: log_uniform",
        ),
        ({"search": {"lr": {"log_uniform": [0, 1]}}}, "log_uniform needs low > 0"),
        ({"search": {"lr": {"uniform": [2, 1]}}}, "low 2.0 is above high 1.0"),
        ({"search": {"lr": {"choice": [], "keys": "model.lr_g"}}}, "needs a list"),
        ({"search": {"x": {"uniform": [0, 1], "keys": "lr_g"}}}, "is not SECTION.NAME"),
        ({"budget": {"epochs": 2}}, "budget needs steps, or epochs and epoch_images"),
        ({"budget": {"steps": -3}}, "budget.steps=-3 must be a positive number"),
        ({"samples": 0}, "samples=0 must be a whole number >= 1"),
        ({"objective": "fidd"}, "objective 'fidd' is not one of"),
        ({"metrics": {"end": ["fidd"]}}, "unknown metric 'fidd'"),
        ({"metrics": {"end": ["pr"]}}, "objective 'fid' needs 'fid' in metrics.end"),
        ({"sampels": 3}, "unknown key 'sampels'.*Did you mean: samples"),
    ],
)
def test_bad_specs_are_refused_in_one_line(change, message):
    with pytest.raises(GanariumError, match=message) as e:
        validate_spec(_spec(**change))
    assert "\n" not in str(e.value)


def test_per_recipe_keys_are_checked_against_that_recipe():
    recipes = {"gan-ns": {"search": {"gp_weight": {"log_uniform": [0.1, 1]}}}}
    with pytest.raises(ConfigError, match="recipe gan-ns has no key 'model.gp_weight'"):
        validate_spec(_spec(recipes=recipes))


def test_distributions_and_list_keys():
    rng = np.random.default_rng(0)
    d = parse_distribution("lr", {"log_uniform": [1e-4, 1e-2]}, "search")
    values = [d.sample(rng) for _ in range(2000)]
    assert d.keys == ("model.lr",) and min(values) >= 1e-4 and max(values) <= 1e-2
    assert abs(np.median(np.log10(values)) + 3) < 0.1  # uniform in the exponent
    cfg = {"model": {"betas": [0.5, 0.999]}}
    set_key(cfg, "model.betas[0]", 0.1)
    assert cfg["model"]["betas"] == [0.1, 0.999]


def test_asha_stops_the_worse_part_at_each_rung():
    rungs = Rungs(grace=10, eta=3)
    assert rungs.milestones(95) == [10, 30, 90]
    assert not rungs.decide("a", 10, 5.0)  # first at the rung: go on
    assert not rungs.decide("b", 10, 1.0)  # better than a
    assert rungs.decide("c", 10, 9.0)  # worse than the best third
    assert not rungs.decide("b", 30, 1.0)
    assert rungs.decide("a", 30, 2.0)
    assert not rungs.decide("b", 31, 50.0)  # rung 30 already recorded for b
    restored = Rungs(grace=10, eta=3)
    restored.load([{"trial": "b", "asha_rungs": '{"30": 1.0}'}])
    assert restored.recorded[10]["b"] == 1.0 and restored.recorded[30]["b"] == 1.0


def test_presets_resolve_and_validate():
    for name in PRESETS:
        spec = resolve_spec(name)
        assert spec.recipes and spec.datasets and "shapes" in spec.datasets
    small = resolve_spec("small")
    assert len(expand(small, validate_spec(small))) == len(small.recipes) * len(small.datasets) * 3
    lucic = preset("lucic2018")
    assert lucic["search"]["lr"]["log_uniform"] == [1e-5, 1e-2] and lucic["samples"] == 100
    assert resolve_spec("lucic2018").steps_for("digits", 64) == round(20 * 50_000 / 64)


def test_a_study_directory_keeps_one_protocol(tmp_path):
    study = StudyDir(tmp_path / "s")
    study.create()
    study.spec.write_text(_spec().to_yaml())
    check_same_protocol(study, restrict(_spec(), samples=8))  # more samples: the same study
    with pytest.raises(ConfigError, match="another 'budget'"):
        check_same_protocol(study, _spec().scaled(0.5))
    with pytest.raises(ConfigError, match="another 'search'"):
        check_same_protocol(study, _spec(search={}))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["study", "lucic2019"], "unknown study preset 'lucic2019'.*Did you mean: lucic2018"),
        (["study", "missing.yaml"], "study spec missing.yaml does not exist"),
        (["study", "small", "--budget", "0"], "--budget 0.0 must be a positive number"),
        (["study", "small", "--address", "127.0.0.1:9"], "no Ray head answers there"),
        (
            ["study", "small", "--backend", "local", "--address", "auto"],
            "use it with --backend ray",
        ),
        (["study", "small", "--datasets", "cifar"], "--datasets 'cifar' is not in the study's"),
    ],
)
def test_command_refuses_bad_input_with_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_command_prints_the_plan_and_the_spec(capsys):
    assert main(["study", "small", "--plan", "--recipes", "gan-ns", "--datasets", "digits"]) == 0
    out = capsys.readouterr().out
    assert "gan-ns-digits-002-r0" in out and "3 trials" in out
    assert main(["study", "small", "--print-spec", "--budget", "0.5"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert math.isclose(printed["budget"]["scale"], 0.5)
