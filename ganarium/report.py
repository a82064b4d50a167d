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
from ganarium.metrics.evaluate import format_value, metric_help, split_floor
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
    """A line chart of ``lines`` (name -> [(x, y)]) as inline SVG, with its y range; the legend
    sits in rows below the plot, so it never covers a line."""
    per_row = 4
    legend_rows = (len(lines) + per_row - 1) // per_row if len(lines) > 1 else 0
    w, left, right, top, bottom = 460, 56, 10, 24, 28
    plot_h = 138
    h = top + plot_h + bottom + 14 * legend_rows
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
        sy = top + (y1 - y) / (y1 - y0) * plot_h
        return f"{sx:.1f},{sy:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
        f'<text x="{left}" y="15" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{plot_h}" '
        'fill="none" stroke="#ccc"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{y1:.3g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">{y0:.3g}</text>',
        f'<text x="{left}" y="{top + plot_h + 18}">step {x0:.0f}</text>',
        f'<text x="{w - right}" y="{top + plot_h + 18}" text-anchor="end">{x1:.0f}</text>',
    ]
    for i, (name, pts) in enumerate(lines.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(px(x, y) for x, y in pts)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        if len(lines) > 1:  # below the plot and its step labels
            lx = left + 100 * (i % per_row)
            ly = top + plot_h + bottom + 10 + 14 * (i // per_row)
            parts.append(
                f'<rect x="{lx}" y="{ly - 8}" width="10" height="3" fill="{colour}"/>'
                f'<text x="{lx + 14}" y="{ly}" fill="{colour}">{html.escape(name)}</text>'
            )
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


def _evaluation(results: dict[str, Any]) -> list[str]:
    """The latest evaluation: each figure, the real-data floor beside it (real training data
    scored the same way: what a perfect generator would get), and what it measures."""
    own, floor = split_floor(results)
    head = "<tr><th>metric</th><th>this run</th><th>real data</th><th>what it measures</th></tr>"
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(format_value(k, v))}</td>"
        f"<td>{html.escape(format_value(k, floor[k])) if k in floor else ''}</td>"
        f"<td class='help'>{html.escape(metric_help(k))}</td></tr>"
        for k, v in own.items()
    )
    notes = []
    extractors = sorted({k.split("[", 1)[1].rstrip("]") for k in own if "[" in k})
    for name in extractors:
        if name == "inception":
            notes.append(
                "Metrics marked [inception] use the standard Inception network: comparable with "
                "published figures at equal sample counts."
            )
        else:
            notes.append(
                f"Metrics marked [{html.escape(name)}] are computed in the feature space of "
                f"{'raw values' if name == 'pixels' else 'the project' + chr(39) + 's own ' + html.escape(name)}"
                ", not Inception's: a 'domain' FID on another scale, not comparable with "
                "published Inception FIDs."
            )
    if floor:
        notes.append(
            "The real-data column scores as many real training images the same way against the "
            "same held-out reference; no generator can be expected to beat it (FID is not 0 "
            "even for real data: two samples of one distribution differ)."
        )
    if "kid_std" in " ".join(own):
        notes.append(
            "kid_std is n/a when every KID subset is the whole sample set (fewer samples than "
            "the subset size): there is no spread to measure."
        )
    return [f"<table>{head}{rows}</table>", *(f"<p class='note'>{n}</p>" for n in notes)]


def _class_histogram(run: RunDir, trust_code: bool = False) -> list[str]:
    """For data with known classes: the class histogram of 1,000 samples of the final model,
    read by the data's classifier, as an SVG bar chart with its KL divergence from uniform."""
    import math as _math

    from ganarium.metrics import domain_of
    from ganarium.models import generate_batched
    from ganarium.runs import load_recipe

    if not run.has_checkpoint():
        return []
    try:
        recipe = load_recipe(run.path, trust_code=trust_code)
    except GanariumError:
        return []
    histogram = domain_of(recipe.info).histogram
    if histogram is None or recipe.info.kind != "image" or recipe.capabilities().translate:
        return []
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(0)
        counts = histogram(generate_batched(recipe, 1000), recipe.info)
    total = sum(counts.values()) or 1
    p = [(c + 0.5) / (total + 0.5 * len(counts)) for c in counts.values()]
    kl = sum(q * _math.log(q * len(p)) for q in p)
    w, h, left, bottom = 460, 150, 30, 20
    bar = (w - left) / len(counts)
    top = max(counts.values()) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">']
    for i, (label, c) in enumerate(counts.items()):
        bh = (h - bottom - 10) * c / top
        x = left + i * bar
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{h - bottom - bh:.1f}" width="{bar - 4:.1f}" '
            f'height="{bh:.1f}" fill="#1f77b4"/><text x="{x + bar / 2:.1f}" y="{h - 6}" '
            f'text-anchor="middle">{html.escape(str(label))}</text>'
        )
    fair = (h - bottom - 10) * (total / len(counts)) / top
    parts.append(
        f'<line x1="{left}" x2="{w}" y1="{h - bottom - fair:.1f}" y2="{h - bottom - fair:.1f}" '
        'stroke="#d62728" stroke-dasharray="4"/></svg>'
    )
    return [
        "<h2>Classes in the final samples</h2>",
        "".join(parts),
        f"<p class='note'>1,000 samples of the final model read by the data's classifier; the "
        f"dashed line is a uniform share. KL divergence from uniform: {kl:.3g} (0 is perfectly "
        f"balanced).</p>",
    ]


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


def render_report(run_dir: str | Path, trust_code: bool = False) -> str:
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
        "img{image-rendering:pixelated}pre{background:#f6f6f6;padding:1em;overflow:auto}"
        "td.help,p.note{color:#555}td{padding-right:1.5em}",
        f"</style></head><body><h1>{html.escape(title)}</h1>",
        _table(_about(config, records, summary)),
    ]
    eval_path = run.path / "eval.json"
    if eval_path.exists():
        out += ["<h2>Evaluation</h2>", *_evaluation(json.loads(eval_path.read_text()))]
    out += _class_histogram(run, trust_code)
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


def write_report(
    run_dir: str | Path, out: str | Path | None = None, trust_code: bool = False
) -> Path:
    """Write the run's report (default ``RUN/report.html``) atomically and return its path.
    Its class histogram samples the model, which for own nets imports the code the run names:
    only with ``trust_code`` (otherwise the histogram is left out)."""
    path = Path(out) if out is not None else RunDir(run_dir).report
    atomic_write_text(path, render_report(run_dir, trust_code))
    return path
