"""BEGAN's controller state in logs and checkpoints, and the learning rates halved when M_global
stalls."""

import pytest
import torch

from ganarium.checkpoint import load_checkpoint
from ganarium.data import DataInfo
from ganarium.errors import ConfigError
from ganarium.models import RECIPES
from ganarium.presets import load_preset
from ganarium.recipe import StepContext
from ganarium.runs import load_recipe, resume_run, start_run


def test_began_logs_k_t_and_m_global_and_checkpoints_k(tmp_path, tiny_overrides):
    trainer = start_run(
        "began",
        "digits",
        ["data.size=16", "model.g_width=8", "model.d_width=8"] + tiny_overrides,
        run_dir=str(tmp_path / "run"),
    )
    history = trainer.fit()
    assert all("M_global" in r and "k_t" in r and "G/M_global" in r for r in history)
    assert [r["step"] for r in history if "M_global" in r] == [2, 4]
    assert trainer.recipe.capabilities().signals == ("M_global", "k_t")
    assert not any("lr_factor" in r for r in history) and trainer.recipe.extra_state() == {}
    k = float(trainer.recipe.k)
    assert "k" in dict(trainer.recipe.named_buffers())
    assert float(load_recipe(tmp_path / "run").k) == pytest.approx(k)


# -- halving both learning rates when M_global stalls (Sec. 4.1) --------------------------------
def tiny_began(**options):
    torch.manual_seed(0)
    info = DataInfo(name="tiny", kind="image", shape=(3, 16, 16), num_classes=0)
    r = RECIPES.get("began")(info, g_width=8, d_width=8, z_dim=8, code_dim=8, **options)
    r.configure_optimizers()
    return r


def drive(recipe, measures, first_step=0):
    """Feed M_global of each step as the recipe's G phase does; the (G, D) learning rates each
    step runs at, as its D phase sets them."""
    lrs = []
    for step, m in enumerate(measures, first_step):
        recipe.follow_stall(StepContext(step, 100))
        lrs.append(tuple(o.param_groups[0]["lr"] for o in recipe.optimizers.values()))
        recipe.stall.add(torch.tensor(m), step)
    return lrs


def test_both_learning_rates_halve_after_patience_steps_without_a_new_low():
    r = tiny_began(lr_halve_patience=3, lr_g=1e-3, lr_d=4e-3)
    assert list(r.optimizers) == ["G", "D"]
    # new lows at steps 0-2, none at 3-5 (equal is no new low): the step after them halves
    lrs = drive(r, [5.0, 4.0, 3.0, 3.0, 3.5, 3.0, 2.9, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    full, half, quarter = (1e-3, 4e-3), (5e-4, 2e-3), (2.5e-4, 1e-3)
    assert lrs[:6] == [full] * 6
    assert lrs[6:7] == [half]  # 3 stalled steps (3, 4, 5) judged at step 6
    # step 6 sets a new low: the count starts again, so 3 more stalled steps (7-9) before step 10
    assert lrs[7:10] == [half] * 3
    assert lrs[10:] == [quarter] * 3
    assert r.learning_state()["lr_factor"] == 0.25


def test_the_halving_compares_window_means_and_stops_at_the_floor():
    r = tiny_began(lr_halve_patience=2, lr_halve_window=2, lr_halve_floor=0.3)
    # window means: 3 (steps 0-1), 2 (2-3), 2 (4-5): one stalled window of 2 steps = patience
    lrs = drive(r, [4.0, 2.0, 1.0, 3.0, 2.5, 1.5, 9.0, 9.0, 9.0, 9.0, 9.0])
    factors = [g / 1e-4 for g, _ in lrs]
    assert factors[:6] == [1.0] * 6
    assert factors[6:8] == [0.5] * 2  # judged at step 6, the first step past window 4-5
    assert factors[8:] == [pytest.approx(0.3)] * 3  # 0.25 would be below the floor


def test_the_halving_state_resumes_exactly_from_saved_extra_state(tmp_path):
    measures = [3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]
    whole = tiny_began(lr_halve_patience=2, lr_halve_window=2)
    expected = drive(whole, measures)
    first = tiny_began(lr_halve_patience=2, lr_halve_window=2)
    lrs = drive(first, measures[:7])  # stops inside a window: its sum is pending
    torch.save(first.extra_state(), tmp_path / "extra.pt")
    resumed = tiny_began(lr_halve_patience=2, lr_halve_window=2)
    resumed.load_extra_state(torch.load(tmp_path / "extra.pt", weights_only=True))
    lrs += drive(resumed, measures[7:], first_step=7)
    assert lrs == expected and min(g for g, _ in lrs) < 1e-4
    assert resumed.extra_state() == whole.extra_state()


def test_a_run_with_lr_halving_logs_lr_factor_and_resumes_exactly(tmp_path, tiny_overrides):
    args = [
        "data.size=16",
        "model.g_width=8",
        "model.d_width=8",
        "model.lr_halve_patience=1",
    ] + tiny_overrides
    whole = start_run("began", "digits", [*args, "train.steps=8"], run_dir=str(tmp_path / "w"))
    history = whole.fit()
    assert all("lr_factor" in r for r in history)
    assert min(r["lr_factor"] for r in history) < 1.0
    start_run("began", "digits", args, run_dir=str(tmp_path / "p")).fit()
    resumed = resume_run(str(tmp_path / "p"), overrides=["train.steps=8"])
    resumed.fit()
    a = load_checkpoint(tmp_path / "w" / "checkpoints" / "latest.pt")
    b = load_checkpoint(tmp_path / "p" / "checkpoints" / "latest.pt")
    assert a["step"] == b["step"] == 8 and a["extra"] == b["extra"]
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_lr_halving_is_off_by_default():
    r = tiny_began()
    lrs = drive(r, [1.0] * 6)
    assert lrs == [(1e-4, 1e-4)] * 6
    assert r.extra_state() == {} and "lr_factor" not in r.learning_state()
    with pytest.raises(ConfigError, match="lr_halve_floor"):
        tiny_began(lr_halve_patience=5, lr_halve_floor=2.0)
    with pytest.raises(ConfigError, match="lr_halve_patience"):
        tiny_began(lr_halve_patience=-1)


def test_the_celeba_preset_halves_on_a_stall():
    model = load_preset("began", "celeba-128").model
    assert (model["lr_halve_patience"], model["lr_halve_window"]) == (12500, 1250)


def test_a_window_is_judged_by_its_mean_over_processes():
    """Every process judges the same number: the window's mean averaged by the step context's
    strategy, so a rank whose own measure stalls does not halve alone."""
    from ganarium.techniques.schedules import StallHalving

    other_rank = {"total": 0.0}

    def mean_with_other_rank(values):  # this rank and another that keeps improving
        return {k: (v + other_rank[k]) / 2 for k, v in values.items()}

    alone, together = StallHalving(2, 1, 0.0), StallHalving(2, 1, 0.0)
    for step, (mine, theirs) in enumerate([(1.0, 1.0), (1.0, 0.8), (1.0, 0.6), (1.0, 0.4)]):
        for stall in (alone, together):
            stall.add(torch.tensor(mine), step)
        other_rank["total"] = theirs
        alone.close_before(step + 1)
        together.close_before(step + 1, mean_with_other_rank)
    assert alone.factor == 0.5 and together.factor == 1.0
