"""The README's recipe table is generated from real learning-check runs; keep it in sync."""

import json
from pathlib import Path

from conftest import load_script
from test_learning import KNOWN_FAILING

from ganarium.checks import CHECK_KINDS, learning_check
from ganarium.models import RECIPES

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    head = text[: text.index("## Using it")]
    assert "make demo" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _readme_rows() -> dict[str, list[str]]:
    """The README recipe table's rows by recipe: its cells, stripped."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("<!-- recipes:begin -->") : text.index("<!-- recipes:end -->")]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def _figures(cell: str) -> dict[str, str]:
    """'domain fid 109, classes covered 9' -> {'domain fid': '109', 'classes covered': '9'}"""
    return dict(part.rsplit(" ", 1) for part in cell.split(", ")) if cell else {}


def _shown(key: str, value: float) -> str:
    """A figure as scripts/learning_table.py prints it (3 significant digits, counts whole)."""
    return f"{value:.0f}" if key in ("modes_covered", "classes_covered") else f"{value:.3g}"


def test_every_recipe_has_a_readme_row_whose_verdict_its_checks_judge_gives():
    """Each registered recipe has a row; its figures are the stored run's and its pass column is
    what the check's own judge says of those figures against today's bars (not the stored flag),
    for a run of today's check (kind and steps); all pass but the known failures."""
    rows = _readme_rows()
    results = json.loads((ROOT / "docs" / "learning_checks.json").read_text())
    for name in RECIPES.names():
        assert name in rows, f"{name} missing from README table: run scripts/learning_table.py"
        assert name in results, f"{name} has no measured learning check"
        stored, check = results[name], learning_check(name)
        assert (stored["kind"], stored["steps"]) == (check.kind, check.steps), (
            f"{name} was measured by another check: scripts/learning_table.py --only {name}"
        )
        failures = CHECK_KINDS.get(check.kind).judge(
            stored["before"], stored["after"], dict(check.bars)
        )
        cells = rows[name]
        for column, figures in ((4, stored["before"]), (5, stored["after"])):
            shown = {k.replace("_", " "): _shown(k, v) for k, v in figures.items()}
            assert _figures(cells[column]) == shown, f"{name}: README figures differ from the run"
        assert cells[7] == ("**no**" if failures else "yes"), (
            f"{name}: README says {cells[7]!r}, its judge says {failures or 'pass'}"
        )
        if name not in KNOWN_FAILING:  # those show their failing figures, with the reason
            assert not failures, f"{name}'s recorded learning check fails its bars: {failures}"


def _learning_table():
    return load_script("scripts/learning_table.py")


def test_the_table_says_which_runs_cpus_and_dates_its_rows_come_from():
    table = _learning_table()
    one = {"run": "table-2026-12", "cpu": "CPU A", "date": "2026-12-07"}
    line = table.provenance(
        {
            "a": one,
            "b": {**one, "date": "2026-12-09"},
            "c": {},
        }
    )
    assert line.startswith("Rows measured: 2 from table-2026-12 (CPU A, 2026-12-07 to 2026-12-09)")
    assert "1 from earlier runs (CPU not recorded)" in line
    text = (ROOT / "README.md").read_text()
    results = json.loads((ROOT / "docs" / "learning_checks.json").read_text())
    assert table.provenance(results) in text


def test_a_named_run_resumes_only_over_results_of_todays_check():
    table = _learning_table()
    check = learning_check("dcgan")
    stored = {"kind": check.kind, "steps": check.steps, "bars": dict(check.bars)}
    assert table._same_settings(stored, "dcgan")
    assert not table._same_settings({**stored, "steps": check.steps + 1}, "dcgan")
