"""BEGAN's controller state in logs and checkpoints."""

import pytest

from ganarium.runs import load_recipe, start_run


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
    k = float(trainer.recipe.k)
    assert "k" in dict(trainer.recipe.named_buffers())
    assert float(load_recipe(tmp_path / "run").k) == pytest.approx(k)
