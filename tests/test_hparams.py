"""Typed hyper-parameters (ganarium.hparams): one declaration per key, validated by what it
declares; register returns the named class; no recipe declares a key twice or checks ranges by
hand."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import load_script

from ganarium.errors import ConfigError
from ganarium.hparams import Hparams, fraction, hp, learning_rate, override, whole, with_defaults
from ganarium.models import RECIPES

MODELS = Path(__file__).resolve().parent.parent / "ganarium" / "models"


@dataclass
class Parent(Hparams):
    lr: float = learning_rate(2e-4, "the learning rate")
    mode: str = hp("a", "which mode", choices=("a", "b"))
    steps: int = whole(3, "how many", minimum=2)
    share: float = fraction(0.5, "a share")


@dataclass
class Child(Parent):
    lr: float = override(1e-3)

    def check(self) -> str | None:
        if self.mode == "b" and self.steps < 4:
            return "mode=b needs steps >= 4: raise model.steps"
        return None


def test_an_override_keeps_the_parents_help_and_range():
    assert Child.defaults()["lr"] == 1e-3
    assert Child.specs()["lr"].help == "the learning rate"
    with pytest.raises(
        ConfigError,
        match=r"model.lr=-1.0 is out of range for recipe 'x': a learning rate must be > 0",
    ):
        Child.from_config("x", {"lr": -1.0})


@pytest.mark.parametrize(
    "given, words",
    [
        ({"mode": "c"}, "choose one of a, b"),
        ({"steps": 1}, "whole number >= 2"),
        ({"steps": 2.5}, "whole number >= 2"),
        ({"share": 1.5}, r"in \[0, 1\]"),
        ({"share": float("nan")}, r"in \[0, 1\]"),
        ({"mode": "b"}, "mode=b needs steps >= 4"),
        ({"lrr": 1.0}, r"has no hyper-parameter 'lrr'. Did you mean: lr\?"),
    ],
)
def test_bad_values_are_refused_in_one_line(given, words):
    with pytest.raises(ConfigError, match=words) as e:
        Child.from_config("x", given)
    assert "\n" not in str(e.value)


def test_a_good_config_gives_a_typed_instance():
    hp_ = Child.from_config("x", {"mode": "b", "steps": 5})
    assert isinstance(hp_, Child) and hp_.mode == "b" and hp_.steps == 5 and hp_.lr == 1e-3


def test_with_defaults_makes_a_variant_and_refuses_unknown_keys():
    variant = with_defaults(Child, "v", {"steps": 7})
    assert variant.defaults()["steps"] == 7 and Child.defaults()["steps"] == 3
    with pytest.raises(ValueError, match="not hyper-parameters"):
        with_defaults(Child, "v", {"nope": 1})


def test_register_returns_the_named_class_and_stacked_names_stay_apart():
    from ganarium.data import DataInfo
    from ganarium.models.gan import GAN

    assert GAN.name == "gan" and RECIPES.get("gan") is GAN
    info = DataInfo(name="ring8", kind="vector", shape=(2,))
    assert GAN(info).name == "gan"
    # each stacked registration subclasses the same class: no name inherits another's defaults
    assert RECIPES.get("gan").defaults["loss"] == "minimax"
    assert RECIPES.get("gan-ns").defaults["loss"] == "non-saturating"
    assert RECIPES.get("gan").registered_from is RECIPES.get("gan-ns").registered_from
    for name in RECIPES.names():
        assert RECIPES.get(name).name == name


def test_every_recipe_key_has_help_and_a_declaration():
    for name in RECIPES.names():
        specs = RECIPES.get(name).Hparams.specs()
        assert set(specs) == set(RECIPES.get(name).defaults), name
        assert all(s.help for s in specs.values()), f"{name}: a key without help"
        for key, spec in specs.items():
            default = RECIPES.get(name).defaults[key]
            assert spec.problem(default) is None, f"{name}: default {key}={default!r} is refused"


def _class_assignments(tree: ast.AST) -> list[tuple[str, int]]:
    out = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for st in cls.body:
            target = st.targets[0] if isinstance(st, ast.Assign) else getattr(st, "target", None)
            if isinstance(target, ast.Name) and target.id in ("defaults", "hparam_help"):
                out.append((target.id, st.lineno))
    return out


def _reads_only_hparams(test: ast.expr) -> bool:
    """Whether an if-test reads nothing but ``self.hp.*`` and constants (a range check)."""
    reads = [n for n in ast.walk(test) if isinstance(n, (ast.Name, ast.Call))]
    hp_reads = [
        n
        for n in ast.walk(test)
        if isinstance(n, ast.Attribute) and ast.unparse(n).startswith("self.hp.")
    ]
    others = [n for n in reads if not (isinstance(n, ast.Name) and n.id == "self")]
    return bool(hp_reads) and not others


def test_no_recipe_declares_keys_in_dicts_or_checks_ranges_in_build():
    """Keys are declared in Hparams, and a rule over model.* values alone is the key's range or
    Hparams.check(), never a branch in build() (checks that need the data or the recipe's own
    structure, e.g. how many discriminators it built, stay there)."""
    for path in sorted(MODELS.glob("*.py")):
        tree = ast.parse(path.read_text())
        assert not _class_assignments(tree), f"{path.name}: declare keys in Hparams, not dicts"
        builds = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "build"]
        for branch in (n for fn in builds for n in ast.walk(fn) if isinstance(n, ast.If)):
            raises = any(
                isinstance(n, ast.Raise) and "ConfigError" in ast.unparse(n)
                for st in branch.body
                for n in ast.walk(st)
            )
            if raises and _reads_only_hparams(branch.test):
                pytest.fail(
                    f"{path.name}:{branch.lineno}: `if {ast.unparse(branch.test)}` checks model.* "
                    "values in build(); declare the key's range or choices, or a rule in "
                    "Hparams.check()"
                )


def test_the_hyper_parameter_docs_are_generated_from_the_declarations():
    module = load_script("scripts/hparams_doc.py")
    assert module.OUT.read_text() == module.render(), (
        "docs/hyperparameters.md is stale: run `python scripts/hparams_doc.py`"
    )
