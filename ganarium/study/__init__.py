"""Large-scale studies (Lucic et al. 2018, "Are GANs Created Equal?"): many recipes x datasets x
sampled hyper-parameters x seeds, each trial an ordinary run, on Ray Tune or a local process
pool, with a results table and a report. ``ganarium study SPEC.yaml|PRESET`` runs one.

    spec.py, space.py   the spec and its search space      trials.py  spec -> trials
    trial.py            one trial (start/resume, fit, evaluate, record)
    local.py, ray_backend.py   the backends                asha.py    early stopping
    layout.py           the study directory and its table  runner.py  the driver
    presets.py          lucic2018, lucic2018-narrow, small report.py  study.html
"""

from __future__ import annotations

from pathlib import Path


def is_study_dir(path: str | Path) -> bool:
    """True when ``path`` holds a study (its study.yaml and trials/), not a single run."""
    p = Path(path)
    return (p / "study.yaml").is_file() and (p / "trials").is_dir()


def write_study_report(
    path: str | Path, out: str | Path | None = None, figures: str | Path | None = None
) -> Path:
    """Write STUDY/study.html (or ``out``), and its figures as PNGs into ``figures`` when
    given; see ganarium.study.report."""
    from ganarium.study.report import write_study_report as write

    return write(path, out, figures)
