"""The training view of a run: its latest evaluation beside the real-data floor and its curves,
read from the run folder with the report's own figures (inline SVG, no file served)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from ganarium.report import _evaluation, chart_groups, svg_chart
from ganarium.rundir import RunDir


def evaluation_html(path: Path) -> str:
    """The run's eval.json as the report's table, or a line saying how to make one."""
    eval_path = RunDir(path).path / "eval.json"
    if not eval_path.is_file():
        return f"<p>No evaluation yet: <code>ganarium eval {html.escape(str(path))}</code> writes one.</p>"
    try:
        results = json.loads(eval_path.read_text())
    except ValueError:
        return "<p>eval.json could not be read.</p>"
    return "".join(_evaluation(results))


def curves_html(path: Path) -> str:
    """The run's logged curves, as the report charts them."""
    groups = chart_groups(RunDir(path).read_metrics())
    if not groups:
        return "<p>Nothing logged yet.</p>"
    return "".join(svg_chart(name, lines) for name, lines in groups.items())


def training_html(path: Path) -> str:
    return (
        "<style>.ganarium-training svg{display:inline-block;font:11px sans-serif}</style>"
        "<div class='ganarium-training'><h3>Latest evaluation</h3>"
        f"{evaluation_html(path)}<h3>Training curves</h3>{curves_html(path)}</div>"
    )
