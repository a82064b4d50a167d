"""The README's recipe table is generated from real learning-check runs; keep it in sync."""

import json
from pathlib import Path

from test_learning import KNOWN_FAILING

from ganarium.models import RECIPES

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    head = text[: text.index("## Using it")]
    assert "make demo" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_recipe_has_measured_figures_in_the_readme():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("<!-- recipes:begin -->") : text.index("<!-- recipes:end -->")]
    results = json.loads((ROOT / "docs" / "learning_checks.json").read_text())
    for name in RECIPES.names():
        assert f"| `{name}` |" in table, (
            f"{name} missing from README table: run scripts/learning_table.py"
        )
        assert name in results and results[name]["after"], f"{name} has no measured learning check"
        if name not in KNOWN_FAILING:  # those show their failing figures, with the reason
            assert results[name]["passed"], f"{name}'s recorded learning check failed"
