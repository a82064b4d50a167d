"""A self-contained HTML report of a run: what was trained, its training signals as charts (losses
per phase and each recipe's own progress measures, such as BEGAN's M_global), sample grids over
training and the latest evaluation. One file with everything inlined (SVG charts, PNGs as data
URIs), so it can be mailed or attached as it is; written atomically to ``RUN/report.html``.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

from ganarium.checkpoint import atomic_write_text
from ganarium.errors import GanariumError
from ganarium.metrics.evaluate import format_value
from ganarium.rundir import RunDir

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
NOT_CHARTED = {"step", "sec_per_step"}
MAX_GRIDS = 6


def _series(records: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """key -> [(step, value)] for every finite number logged."""
    out: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        step = r.get("step")
        if not isinstance(step, (int, float)):
            continue
        for k, v in r.items():
            if k in NOT_CHARTED or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if math.isfinite(v):
                out.setdefault(k, []).append((float(step), float(v)))
    return out


def chart_groups(
    records: list[dict[str, Any]], signals: tuple[str, ...] = ()
) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Charts to draw: each progress signal on its own, first (the recipe's declared
    ``signals`` in their order, then other learning state, a key without '/', and each periodic
    metric, 'eval/...', on its own scale); then one chart per phase prefix ('loss', 'D', ...)."""
    single: dict[str, dict[str, list[tuple[float, float]]]] = {}
    grouped: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for k, v in _series(records).items():
        prefix, _, name = k.rpartition("/")
        if prefix in ("", "eval"):
            single[name] = {name: v}
        else:
            grouped.setdefault("losses" if prefix == "loss" else f"{prefix} step", {})[name] = v
    declared = {k: single.pop(k) for k in signals if k in single}
    return {**declared, **single, **grouped}


def svg_chart(title: str, lines: dict[str, list[tuple[float, float]]]) -> str:
    """A line chart of ``lines`` (name -> [(x, y)]) as inline SVG, with its y range and legend."""
    w, h, left, right, top, bottom = 460, 190, 56, 10, 24, 28
    xs = [x for pts in lines.values() for x, _ in pts]
    ys = [y for pts in lines.values() for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def px(x: float, y: float) -> str:
        sx = left + (x - x0) / (x1 - x0) * (w - left - right)
        sy = top + (y1 - y) / (y1 - y0) * (h - top - bottom)
        return f"{sx:.1f},{sy:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
        f'<text x="{left}" y="15" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" '
        'fill="none" stroke="#ccc"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{y1:.3g}</text>',
        f'<text x="{left - 4}" y="{h - bottom}" text-anchor="end">{y0:.3g}</text>',
        f'<text x="{left}" y="{h - 10}">step {x0:.0f}</text>',
        f'<text x="{w - right}" y="{h - 10}" text-anchor="end">{x1:.0f}</text>',
    ]
    for i, (name, pts) in enumerate(lines.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(px(x, y) for x, y in pts)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        if len(lines) > 1:
            lx = left + 8 + 90 * (i % 4)
            ly = top + 14 + 14 * (i // 4)
            parts.append(f'<text x="{lx}" y="{ly}" fill="{colour}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _png(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _grids(run: RunDir) -> list[Path]:
    """The latest sample grid and up to MAX_GRIDS - 1 earlier ones, evenly spread."""
    grids = sorted(run.samples.glob("step_*.png")) if run.samples.exists() else []
    if len(grids) <= MAX_GRIDS:
        return grids
    picks = {round(i * (len(grids) - 1) / (MAX_GRIDS - 1)) for i in range(MAX_GRIDS)}
    return [grids[i] for i in sorted(picks)]


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _summary(run: RunDir) -> dict[str, Any]:
    """RUN/recipe.json (nets, parameter counts, capabilities), or {} for older runs."""
    try:
        return json.loads(run.summary.read_text())
    except (OSError, ValueError):
        return {}


def _about(
    config: dict[str, Any], records: list[dict[str, Any]], summary: dict[str, Any]
) -> list[tuple[str, str]]:
    from ganarium.models import RECIPES

    name = str(config.get("recipe", "?"))
    rows = [("recipe", name)]
    if name in RECIPES.names():
        meta = RECIPES.meta(name)
        rows += [("paper", f"{meta['paper']} ({meta['year']})"), ("family", meta["family"])]
    rows.append(("data", str(config.get("data", {}).get("name", "?"))))
    nets = summary.get("nets", {})
    if nets:
        rows.append(("nets", ", ".join(f"{k} {v:,} parameters" for k, v in nets.items())))
    offered = [k for k, v in summary.get("capabilities", {}).items() if v]
    if offered:
        rows.append(("offers", ", ".join(offered)))
    steps = [r["step"] for r in records if isinstance(r.get("step"), (int, float))]
    planned = config.get("train", {}).get("steps")
    trained = format_value("step", max(steps)) if steps else "0"
    rows.append(("steps trained", f"{trained} of {planned}"))
    times = [r["sec_per_step"] for r in records if isinstance(r.get("sec_per_step"), float)]
    if times:
        rows.append(("seconds per step", f"{sum(times) / len(times):.3g}"))
    return rows


def render_report(run_dir: str | Path) -> str:
    """The report of the run in ``run_dir`` as one HTML page."""
    import yaml

    run = RunDir(run_dir)
    if not run.config.exists():
        raise GanariumError(
            f"{run.path} is not a run directory (no config.yaml): pass the folder that "
            "`ganarium train` printed"
        )
    config_text = run.config.read_text()
    config = yaml.safe_load(config_text) or {}
    records = run.read_metrics()
    summary = _summary(run)
    title = f"ganarium report: {run.path.name}"
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>",
        "body{font:14px sans-serif;margin:2em;max-width:1000px}th{text-align:left;padding-right:"
        "1em}svg{font:11px sans-serif;margin:4px}figure{display:inline-block;margin:4px}"
        "img{image-rendering:pixelated}pre{background:#f6f6f6;padding:1em;overflow:auto}",
        f"</style></head><body><h1>{html.escape(title)}</h1>",
        _table(_about(config, records, summary)),
    ]
    eval_path = run.path / "eval.json"
    if eval_path.exists():
        results = json.loads(eval_path.read_text())
        out += [
            "<h2>Evaluation</h2>",
            _table([(k, format_value(k, v)) for k, v in results.items()]),
        ]
    out.append("<h2>Training signals</h2>")
    groups = chart_groups(records, tuple(summary.get("capabilities", {}).get("signals", ())))
    if groups:
        out += [svg_chart(name, lines) for name, lines in groups.items()]
    else:
        out.append("<p>Nothing logged yet.</p>")
    grids = _grids(run)
    if grids:
        out.append("<h2>Samples</h2>")
        for g in grids:
            step = int(g.stem.split("_")[-1])
            out.append(
                f"<figure><img src='{_png(g)}' width='256'><figcaption>step {step}</figcaption>"
                "</figure>"
            )
    out += ["<h2>Config</h2>", f"<pre>{html.escape(config_text)}</pre>", "</body></html>"]
    return "\n".join(out)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's report (default ``RUN/report.html``) atomically and return its path."""
    path = Path(out) if out is not None else RunDir(run_dir).report
    atomic_write_text(path, render_report(run_dir))
    return path
