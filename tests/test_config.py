import pytest

from ganarium.config import build_config
from ganarium.errors import ConfigError, GanariumError


def test_defaults_and_overrides_resolve():
    cfg = build_config(
        "wgan-gp", "digits", ["steps=7", "model.gp_weight=5", "size=16", "betas=[0.5,0.9]"]
    )
    assert cfg.train.steps == 7 and cfg.model.gp_weight == 5 and cfg.data.size == 16
    assert (
        list(cfg.model.betas) == [0.5, 0.9] and cfg.model.n_critic == 5 and cfg.recipe == "wgan-gp"
    )


@pytest.mark.parametrize(
    "item, message",
    [
        ("stepz=3", "Did you mean: steps"),
        ("train.steps=abc", "wrong type"),
        ("model.gp_weight=high", "wrong type"),
        ("seed=1", "ambiguous"),
        ("model.nope=1", "unknown config key"),
        ("steps", "not key=value"),
        ("optim.lr=1", "unknown config section"),
    ],
)
def test_bad_overrides_fail_with_a_clear_message(item, message):
    with pytest.raises(ConfigError, match=message):
        build_config("wgan-gp", "digits", [item])


def test_unknown_recipe_and_dataset_suggest_names():
    with pytest.raises(GanariumError, match="Did you mean: wgan-gp"):
        build_config("wgan_gp", "digits")
    with pytest.raises(GanariumError, match="Did you mean: digits"):
        build_config("dcgan", "digit")


def test_config_file(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  steps: 11\nmodel:\n  lr_g: 0.001\n")
    cfg = build_config("dcgan", "digits", ["steps=12"], str(f))
    assert cfg.train.steps == 12 and cfg.model.lr_g == 0.001
    f.write_text("train:\n  stepz: 11\n")
    with pytest.raises(ConfigError, match="stepz"):
        build_config("dcgan", "digits", [], str(f))
