"""`ganarium report RUN|STUDY`: a run's self-contained report.html, or a study's study.html."""

from __future__ import annotations

import argparse

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError, writable_dir, writable_file


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory, or a study directory (from `ganarium study`)")
    p.add_argument("--out", help="where to write it (default: RUN/report.html or STUDY/study.html)")
    p.add_argument(
        "--figures", help="a study's figures also as PNG files in this folder (studies only)"
    )
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="let the report sample a run with own nets, importing the code its config names "
        "(without it, such a report leaves out the class histogram)",
    )


def run(args: argparse.Namespace) -> None:
    from ganarium.study import is_study_dir

    out = writable_file(args.out, "--out", (".html", ".htm")) if args.out else None
    if is_study_dir(args.run):
        from ganarium.study import write_study_report

        figures = writable_dir(args.figures, "--figures") if args.figures else None
        print(write_study_report(args.run, out, figures))
        return
    if args.figures:
        raise UsageError(f"--figures is for study directories; {args.run} is a run: drop it")
    from ganarium.report import write_report

    print(write_report(args.run, out, trust_code=args.trust_code))


COMMANDS.add(
    "report",
    Command(
        "write a run's (or a study's) self-contained HTML report",
        _add,
        run,
        (
            "ganarium report runs/dcgan-digits-1",
            "ganarium report runs/dcgan-digits-1 --out r.html",
            "ganarium report studies/small",
        ),
        order=70,
    ),
)
