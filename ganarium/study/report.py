"""``STUDY/study.html``: the figures of Lucic et al. 2018 for a study, in one self-contained page
(plots as inline PNGs drawn with matplotlib's Agg backend, sample grids inlined, no scripts or
styles fetched from anywhere).

- the score distribution per recipe and dataset (box plots with every trial as a dot; Fig. 3),
- the best score reached as a function of the number of trials, mean and 90% band over
  bootstrap resamples of the trials (Fig. 4),
- exact precision against exact recall on the shapes data, with F1 (Fig. 8),
- the best trial of each recipe and dataset with its hyper-parameters and samples, the paper's
  own best FIDs beside them where it has them (Inception FIDs: another scale), and the whole
  results table, sortable by clicking a column.

A trial's score is its best objective over the evaluations it had (the paper keeps the best
checkpoint); failed trials are counted, not plotted.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ganarium.checkpoint import atomic_write_bytes, atomic_write_text
from ganarium.errors import GanariumError
from ganarium.study.layout import StudyDir

BOOTSTRAP = 500
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
SORTER = """<script>
function sortBy(th){const t=th.closest('table'),i=[...th.parentNode.children].indexOf(th);
const rows=[...t.tBodies[0].rows],asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
const key=r=>{const v=r.cells[i].dataset.v??r.cells[i].textContent;const n=parseFloat(v);
return isNaN(n)?v:n};rows.sort((a,b)=>{const x=key(a),y=key(b);
return (x<y?-1:x>y?1:0)*(asc?1:-1)});rows.forEach(r=>t.tBodies[0].appendChild(r));}
</script>"""
STYLE = """<style>body{font-family:sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#eee;cursor:pointer}.failed{color:#b00}.note{color:#555;font-size:13px}
img.grid{image-rendering:pixelated;width:128px}</style>"""


def _png(fig: Any, save: Path | None = None) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    if save is not None:
        data = buf.getvalue()
        atomic_write_bytes(save, lambda f: f.write(data))
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def scores(frame: Any) -> Any:
    """Each trial's score: its best objective, else its end-of-trial objective."""
    best = frame.get("best_objective")
    end = frame.get("objective")
    if best is None:
        return end.astype(float)
    return best.astype(float).where(np.isfinite(best.astype(float)), end.astype(float))


def best_of_k(values: np.ndarray, ks: np.ndarray, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Mean, 5th and 95th percentile of min(k trials drawn with replacement) for each k."""
    rng = np.random.default_rng(seed)
    draws = rng.choice(values, size=(BOOTSTRAP, int(ks.max())), replace=True)
    mins = np.minimum.accumulate(draws, axis=1)[:, ks - 1]
    return mins.mean(0), np.percentile(mins, 5, axis=0), np.percentile(mins, 95, axis=0)


def _fig_distributions(
    frame: Any, datasets: list[str], recipes: list[str], label: str, save: Path | None = None
) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.2 * len(datasets), 3.6), squeeze=False, layout="constrained"
    )
    for ax, d in zip(axes[0], datasets):
        sub = frame[(frame.dataset == d)]
        data, names = [], []
        for r in recipes:
            rows = sub[sub.recipe == r]
            ok = rows[rows.status != "failed"]
            vals = scores(ok).to_numpy(dtype=float)
            data.append(vals[np.isfinite(vals)])
            failed = int((rows.status == "failed").sum())
            names.append(f"{r}\n({failed} failed)" if failed else r)
        ax.boxplot([v if len(v) else [np.nan] for v in data], showfliers=False)
        for i, v in enumerate(data, 1):
            jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(v))
            ax.scatter(i + jitter, v, s=10, alpha=0.6, color=COLOURS[(i - 1) % len(COLOURS)])
        ax.set_xticks(range(1, len(names) + 1), names, rotation=45, ha="right", fontsize=8)
        ax.set_title(d)
        ax.set_ylabel(label)
        if any(len(v) and np.nanmax(v) / max(np.nanmin(v), 1e-9) > 20 for v in data):
            ax.set_yscale("log")
    fig.suptitle("Distribution of the score over the trials (Fig. 3)")
    return _png(fig, save)


def _fig_budget(
    frame: Any, datasets: list[str], recipes: list[str], label: str, save: Path | None = None
) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.2 * len(datasets), 3.6), squeeze=False, layout="constrained"
    )
    for ax, d in zip(axes[0], datasets):
        for j, r in enumerate(recipes):
            rows = frame[(frame.dataset == d) & (frame.recipe == r)]
            vals = scores(rows[rows.status != "failed"]).to_numpy(dtype=float)
            vals = vals[np.isfinite(vals)]
            if not len(vals):
                continue
            # a failed trial still spent budget: it counts as a trial that found nothing
            vals = np.concatenate([vals, np.full(int((rows.status == "failed").sum()), np.inf)])
            ks = np.arange(1, len(vals) + 1)
            mean, lo, hi = best_of_k(vals, ks)
            c = COLOURS[j % len(COLOURS)]
            ax.plot(ks, np.where(np.isfinite(mean), mean, np.nan), color=c, label=r)
            ax.fill_between(ks, lo, np.where(np.isfinite(hi), hi, np.nan), color=c, alpha=0.15)
        ax.set_title(d)
        ax.set_xlabel("number of trials (budget)")
        ax.xaxis.get_major_locator().set_params(integer=True)  # trials are whole
        ax.set_ylabel(f"best {label}")
    # one legend for every panel, below them, so that it covers no curve
    handles = {lab: h for ax in axes[0] for h, lab in zip(*ax.get_legend_handles_labels())}
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=len(handles))
    fig.suptitle("Best score for a budget of trials: mean and 90% bootstrap band (Fig. 4)")
    return _png(fig, save)


def _fig_precision_recall(frame: Any, recipes: list[str], save: Path | None = None) -> str:
    import matplotlib.pyplot as plt

    rows = frame[(frame.status != "failed")]
    if "exact_precision" not in rows or "exact_recall" not in rows:
        return ""
    rows = rows[
        np.isfinite(rows.exact_precision.astype(float))
        & np.isfinite(rows.exact_recall.astype(float))
    ]
    if not len(rows):
        return ""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    grid = np.linspace(0.01, 1, 100)
    for f1 in (0.2, 0.4, 0.6, 0.8):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = f1 * grid / (2 * grid - f1)
        ok = np.isfinite(r) & (r > 0) & (r <= 1)
        ax.plot(grid[ok], r[ok], color="#bbb", lw=0.8)
        ax.text(0.98, f1 / (2 - f1), f"F1={f1}", fontsize=6, color="#888", ha="right")
    best = []
    for j, r in enumerate(recipes):
        sub = rows[rows.recipe == r]
        if not len(sub):
            continue
        ax.scatter(
            sub.exact_precision, sub.exact_recall, s=14, color=COLOURS[j % len(COLOURS)], label=r
        )
        best.append((r, float(sub.exact_f1.max()), COLOURS[j % len(COLOURS)]))
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("exact precision")
    ax.set_ylabel("exact recall")
    ax.legend(fontsize=7)
    bx.bar([b[0] for b in best], [b[1] for b in best], color=[b[2] for b in best])
    bx.set_ylabel("best F1")
    bx.tick_params(axis="x", rotation=45, labelsize=8)
    fig.suptitle("Precision and recall on shapes, exact (Fig. 8)")
    return _png(fig, save)


def _grid(study: StudyDir, trial: str) -> str:
    grids = sorted((study.run(trial) / "samples").glob("step_*.png"))
    if not grids:
        return ""
    data = base64.b64encode(grids[-1].read_bytes()).decode()
    return f'<img class="grid" alt="samples of {html.escape(trial)}" src="data:image/png;base64,{data}">'


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "<td></td>"
        return f'<td data-v="{v!r}">{v:.4g}</td>'
    return f"<td>{html.escape(str(v))}</td>"


def _table(frame: Any, columns: list[str], extra: dict[str, list[str]] | None = None) -> str:
    head = "".join(
        f'<th onclick="sortBy(this)">{html.escape(c)}</th>' for c in columns + list(extra or {})
    )
    body = []
    for i, (_, row) in enumerate(frame.iterrows()):
        cls = ' class="failed"' if row.get("status") == "failed" else ""
        cells = "".join(_cell(row[c]) for c in columns)
        cells += "".join(f"<td>{v[i]}</td>" for v in (extra or {}).values())
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _extractor_notes(frame: Any) -> list[str]:
    names = " ".join(str(n) for n in frame.get("objective_name", []))
    notes = []
    if "digit-classifier" in names:
        from ganarium.metrics.digit_classifier import accuracy_report

        r = accuracy_report()
        notes.append(
            f"digit-classifier: the project's digit classifier, test accuracy {100 * r['test_accuracy_28']:.1f}% at 28x28, {100 * r['test_accuracy_16']:.1f}% at 16x16"
        )
    if "fashion-classifier" in names:
        from ganarium.metrics.fashion import describe

        notes.append(describe())
    if "pixels" in names:
        notes.append("pixels: raw pixel values (shapes), no network")
    return notes


def _paper_table(frame: Any, datasets: list[str], recipes: list[str]) -> str:
    from ganarium.study.presets import PAPER_BEST_FID

    shown = [
        d for d in datasets if d in PAPER_BEST_FID or d.replace("mnist", "digits") in PAPER_BEST_FID
    ]
    if not shown:
        return ""
    rows = []
    for r in recipes:
        cells = [f"<td>{html.escape(r)}</td>"]
        for d in shown:
            paper = PAPER_BEST_FID.get(d) or PAPER_BEST_FID.get(d.replace("mnist", "digits"), {})
            vals = scores(
                frame[(frame.dataset == d) & (frame.recipe == r) & (frame.status != "failed")]
            )
            ours = float(np.nanmin(vals)) if len(vals) and np.isfinite(vals).any() else math.nan
            cells.append(_cell(ours) + _cell(float(paper[r]) if r in paper else math.nan))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "<th>recipe</th>" + "".join(
        f"<th>{html.escape(d)}: best here</th><th>{html.escape(d)}: paper (Inception)</th>"
        for d in shown
    )
    return (
        "<h2>Next to the paper</h2><p class='note'>The paper's best FIDs (Lucic et al. 2018, mean of "
        "re-runs of the best setting, Inception features, full budget) beside the best score here "
        "(the project's own feature network, this study's budget). The scales differ: compare the "
        "order of the recipes, not the numbers.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _fig_path(folder: str | Path | None, name: str) -> Path | None:
    return None if folder is None else Path(folder) / f"{name}.png"


def write_study_report(
    path: str | Path, out: str | Path | None = None, figures: str | Path | None = None
) -> Path:
    """Write the study's report (default ``STUDY/study.html``) and return its path; with
    ``figures`` (a folder), also write its three figures there as PNG files."""
    study = StudyDir(path)
    if not study.spec.exists():
        raise GanariumError(
            f"{study.path} is not a study directory (no study.yaml): run `ganarium study` first"
        )
    import matplotlib

    matplotlib.use("Agg")
    from omegaconf import OmegaConf

    spec = OmegaConf.to_container(OmegaConf.load(study.spec))
    frame = study.read_table()
    if not len(frame):
        raise GanariumError(f"{study.path} has no finished trials yet: run the study first")
    datasets = [d for d in spec["datasets"] if d in set(frame.dataset)]
    recipes = [r for r in spec["recipes"] if r in set(frame.recipe)]
    label = f"{spec.get('objective', 'fid')} (lower is better)"
    counts = frame.status.value_counts().to_dict()
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>study {html.escape(spec['name'])}</title>{STYLE}{SORTER}</head><body>",
        f"<h1>Study {html.escape(spec['name'])}</h1>",
        f"<p>{len(frame)} trials: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f"; {len(recipes)} recipes x {len(datasets)} datasets x {spec['samples']} samples x {spec['seeds']} seeds; "
        f"{int(frame.planned_steps.max())} steps per trial at most; total trial time "
        f"{frame.wall_s.astype(float).sum() / 3600:.2f} h.</p>",
        "<p class='note'>Score: the best objective over each trial's evaluations. Feature networks: "
        + "; ".join(html.escape(n) for n in _extractor_notes(frame))
        + ".</p>",
        "<h2>Score distribution per recipe and dataset (Fig. 3)</h2>",
        _fig_distributions(frame, datasets, recipes, label, _fig_path(figures, "distributions")),
        "<h2>Best score as a function of the number of trials (Fig. 4)</h2>",
        _fig_budget(frame, datasets, recipes, label, _fig_path(figures, "budget")),
        "<h2>Precision and recall on shapes (Fig. 8)</h2>",
    ]
    shapes = frame[frame.dataset == "shapes"]
    pr = (
        _fig_precision_recall(shapes, recipes, _fig_path(figures, "precision_recall"))
        if len(shapes)
        else ""
    )
    parts.append(
        pr
        or "<p class='note'>No exact precision / recall: the study has no shapes trials with the exact metric.</p>"
    )
    parts.append(_paper_table(frame, datasets, recipes))
    ok = frame[frame.status != "failed"].assign(score=lambda f: scores(f))
    ok = ok[np.isfinite(ok.score)]
    if len(ok):
        best = ok.loc[ok.groupby(["dataset", "recipe"]).score.idxmin()].sort_values(
            ["dataset", "score"]
        )
        hp = [c for c in frame.columns if c.startswith("hp.")]
        parts.append("<h2>Best trial of each recipe and dataset</h2>")
        grids = [_grid(study, t) for t in best.trial]
        parts.append(
            _table(
                best,
                ["dataset", "recipe", "trial", "score", "objective", "steps", *hp],
                {"samples": grids},
            )
        )
    columns = [c for c in frame.columns if c not in ("pid", "asha_rungs")]
    parts.append(
        "<h2>All trials</h2><p class='note'>Click a column to sort. Each trial is an ordinary run in trials/ID (ganarium sample / eval / report work on it).</p>"
    )
    parts.append(_table(frame, columns))
    parts.append("</body></html>")
    target = Path(out) if out else study.report
    atomic_write_text(target, "\n".join(parts))
    return target
