"""`ganarium report RUN`: the run's self-contained report.html."""

from __future__ import annotations

import argparse

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import writable_file


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory")
    p.add_argument("--out", help="where to write it (default: RUN/report.html)")


def run(args: argparse.Namespace) -> None:
    from ganarium.report import write_report

    out = writable_file(args.out, "--out", (".html", ".htm")) if args.out else None
    print(write_report(args.run, out))


COMMANDS.add(
    "report",
    Command(
        "write a run's self-contained HTML report",
        _add,
        run,
        ("ganarium report runs/dcgan-digits-1", "ganarium report runs/dcgan-digits-1 --out r.html"),
        order=70,
    ),
)
