"""`ganarium export RUN --out DIR`: safetensors weights + a JSON config, loadable with
``ganarium.load(DIR)``."""

from __future__ import annotations

import argparse

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import writable_dir


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory")
    p.add_argument(
        "--out", required=True, help="the folder to write (created if its parent exists)"
    )
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code the run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


def run(args: argparse.Namespace) -> None:
    from ganarium.export import export_run
    from ganarium.rundir import RunDir
    from ganarium.runs import read_config

    read_config(RunDir(args.run))  # a folder that is no run fails before --out is created
    out = writable_dir(args.out, "--out")
    export_run(args.run, str(out), trust_code=args.trust_code)
    print(f"exported {args.run} -> {out} (load with ganarium.load({str(out)!r}))")


COMMANDS.add(
    "export",
    Command(
        "export a run's model as safetensors + JSON",
        _add,
        run,
        (
            "ganarium export runs/dcgan-digits-1 --out my-model",
            "python -c \"import ganarium; print(ganarium.load('my-model').generate(4).shape)\"",
        ),
        order=60,
    ),
)
