"""Render docs/reliability.md, the fault table, from tests/test_faults.py (its CASES and its
tests of faults during training), so the table and the tests that prove it never drift apart.

    python scripts/fault_table.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "reliability.md"

DURING_TRAINING = [
    (
        "SIGTERM / SIGINT (preemption, Ctrl-C) while training",
        "stops after the current step with a checkpoint at that step; prints how to resume; exit "
        "code 128 + signal (143 for SIGTERM); re-running with `--resume` continues bit-exactly",
        "test_sigterm_checkpoints_the_step_it_stopped_at_and_requeue_resumes_exactly",
    ),
    (
        "SIGKILL at any moment, three times, resumed each time",
        "final parameters identical to an uninterrupted run (in-memory data, image folders, a "
        "recipe with extra state)",
        "tests/test_trainer.py::test_sigkill_then_resume_gives_identical_parameters",
    ),
    (
        "disk full (or unwritable) while writing a checkpoint",
        "training stops with one line naming the step; the last good checkpoint stays loadable; no "
        "temp file is left",
        "test_a_full_disk_at_checkpoint_time_stops_training_and_keeps_the_last_good_one",
    ),
    (
        "disk full while writing a sample grid, a metrics line or the report",
        "one warning per kind of write, training goes on",
        "test_an_unwritable_sample_grid_warns_once_and_training_goes_on",
    ),
    (
        "metrics.jsonl whose last line was cut by a kill",
        "report, eval and resume read the good lines; resume rewrites the file without the cut line",
        "test_a_metrics_line_cut_by_a_kill_is_tolerated_by_report_resume_and_eval",
    ),
    (
        "a second writer on a run (another `train --resume`, a study trial)",
        "refused in one line naming the process that holds the run's lock",
        "case 'a run another process is writing'",
    ),
    (
        "a lock left by a killed process",
        "detected (the kernel released it) and taken over, with a line saying whose it was",
        "test_a_stale_lock_of_a_killed_process_is_taken_over",
    ),
    (
        "NaN / Inf or out-of-range values, labels outside 0..K-1 in array data",
        "one line naming the sample index",
        "test_array_data_faults_name_the_sample",
    ),
    (
        "a non-finite loss while training",
        "stops at the next log or checkpoint, naming the step and phase where it first happened; "
        "the last good checkpoint is kept",
        "tests/test_trainer.py::test_divergence_stops_with_step_and_keeps_last_checkpoint",
    ),
]


def cases() -> list[tuple[str, str, str]]:
    """(fault, command line, message) of each CASES entry, read from the test's source."""
    tree = ast.parse((ROOT / "tests" / "test_faults.py").read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Case":
            fault, argv, says = (ast.literal_eval(a) for a in node.args)
            out.append((fault, "ganarium " + " ".join(argv), says))
    return out


def main() -> None:
    rows = cases()
    lines = [
        "# Reliability: the fault table",
        "",
        "Every row is a test. Bad input (the first table, `tests/test_faults.py::CASES`) ends in",
        "one line on stderr, never a traceback, with exit code 2, and an existing good run's",
        "checkpoint and config stay byte for byte as they were. `{run}` is a trained run, `{tmp}`",
        "a scratch folder, `{file}` a plain file; the damaged checkpoints are copies of the run.",
        "Rendered by `python scripts/fault_table.py`.",
        "",
        f"## Bad input ({len(rows)} cases)",
        "",
        "| fault | command | the one line says |",
        "|---|---|---|",
    ]
    for fault, cmd, says in rows:
        lines.append(f"| {fault} | `{cmd}` | {says.replace('|', '/')} |")
    lines += [
        "",
        "## Faults while training",
        "",
        "| fault | what happens | test |",
        "|---|---|---|",
    ]
    lines += [f"| {f} | {what} | `{test}` |" for f, what, test in DURING_TRAINING]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows)} bad-input cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
