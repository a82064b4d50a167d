"""`ganarium train RECIPE --data NAME [key=value ...]` and `ganarium train --resume RUN`.

``--preset NAME`` starts from a paper's configuration of the recipe (``ganarium.presets``):
its model, train and data settings go under the config file and the overrides, and the run's
config.yaml records ``preset: NAME``.

Under ``torchrun --nproc_per_node=N -m ganarium train ...`` every process runs this command
and trains data-parallel (docs/multi-gpu.md); rank 0 writes the run.

``train.threads`` sets torch's CPU threads for the run; left at torch's default on a CPU other
processes keep busy, the command warns (``ganarium.training.threads``).

SIGTERM and SIGINT (a scheduler's preemption, Ctrl-C) stop training after the current step with
a checkpoint at that step; the command then says how to resume and exits with 128 + the signal
number, so a SLURM requeue that re-runs the same command with ``--resume`` continues exactly.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError
from ganarium.errors import GanariumError


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "recipe",
        nargs="?",
        help="recipe name (see `ganarium list`), followed by key=value overrides "
        "(data.*, model.*, train.*; bare keys resolve when unambiguous)",
    )
    p.add_argument("--data", help="dataset name (digits, ring8, grid25, folder, mnist, ...)")
    p.add_argument(
        "--preset",
        metavar="NAME",
        help="start from a paper's configuration of the recipe (nets, batch, schedule, EMA, "
        "data size); the config file and overrides apply on top. `ganarium info RECIPE` lists them",
    )
    p.add_argument("--config", help="YAML file merged before the overrides")
    p.add_argument(
        "--run-dir", help="where to write the run (default: runs/<recipe>-<data>-<time>)"
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a run from its latest checkpoint (overrides may change harmless settings)",
    )
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code a resumed run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


def _evaluators(info, every: int):
    if every <= 0:
        return []
    from ganarium.metrics.periodic import periodic_evaluator

    ev = periodic_evaluator(info)
    return [ev] if ev is not None else []


@contextmanager
def stop_on_signals(trainer) -> Iterator[dict[str, int]]:
    """While training, SIGTERM / SIGINT ask the Trainer to stop with a checkpoint."""
    caught: dict[str, int] = {}

    def handler(signum, frame):
        if "signal" in caught:  # a second signal: stop at once
            raise KeyboardInterrupt
        caught["signal"] = signum
        trainer.request_stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield caught
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run(args: argparse.Namespace) -> None:
    from ganarium.runs import resume_run, start_run
    from ganarium.training.threads import set_cpu_threads

    if args.resume:
        if args.recipe and "=" in args.recipe:  # argparse puts the first override there
            args.overrides.insert(0, args.recipe)
        elif args.recipe:
            raise UsageError(
                f"--resume takes no recipe ({args.recipe!r}): the run's config names it"
            )
        if args.preset:
            raise UsageError(
                f"--resume takes no --preset ({args.preset!r}): a resumed run keeps its own "
                "config; drop --preset"
            )
        trainer = resume_run(args.resume, overrides=args.overrides, trust_code=args.trust_code)
        if trainer.restarted:
            print(
                f"ganarium: {trainer.run.path} stopped before its first checkpoint: starting it "
                "again from step 0 with its stored config",
                file=sys.stderr,
            )
        else:
            print(f"resuming {trainer.run.path} at step {trainer.step}", file=sys.stderr)
    else:
        if not args.recipe or not args.data:
            raise UsageError(
                "train needs a recipe and --data (or --resume RUN_DIR); see `ganarium list`"
            )
        if "=" in args.recipe:
            raise UsageError(
                f"{args.recipe!r} is an override, not a recipe: write the recipe name first"
            )
        trainer = start_run(
            args.recipe,
            args.data,
            args.overrides,
            args.config,
            args.run_dir,
            preset=args.preset,
        )
    set_cpu_threads(trainer.cfg.threads, trainer.device)
    trainer.evaluators = _evaluators(trainer.recipe.info, trainer.cfg.eval_every)
    if trainer.lock is not None and trainer.lock.took_over:
        print(f"ganarium: {trainer.lock.took_over}", file=sys.stderr)
    with stop_on_signals(trainer) as caught:
        try:
            history = trainer.fit()
        except KeyboardInterrupt:
            raise GanariumError(
                f"interrupted at step {trainer.step} (checkpoints up to the last saved one are "
                f"kept); continue with `ganarium train --resume {trainer.run.path}`"
            ) from None
    trainer.strategy.close()  # under torchrun: leave the process group
    run_dir = trainer.run
    if "signal" in caught:
        name = signal.Signals(caught["signal"]).name
        print(
            f"ganarium: stopped by {name} at step {trainer.step}, checkpoint saved; continue with "
            f"`ganarium train --resume {run_dir.path}`",
            file=sys.stderr,
        )
        raise SystemExit(128 + caught["signal"])
    if not trainer.strategy.is_writer:  # under torchrun rank 0 reports and writes the report
        return
    last = history[-1] if history else {}
    print(f"trained {trainer.recipe.name} for {trainer.step} steps -> {run_dir.path}")
    print(f"  samples:     {run_dir.samples}/")
    print(f"  metrics:     {run_dir.metrics}")
    print(f"  checkpoint:  {run_dir.latest}")
    from ganarium.report import write_report

    try:
        # training imported the run's code already: the report may sample it
        print(f"  report:      {write_report(run_dir.path, trust_code=True)}")
    except OSError as e:
        print(f"ganarium: warning: could not write the report ({e.strerror or e})", file=sys.stderr)
    shown = {k: round(v, 4) for k, v in last.items() if k != "step" and isinstance(v, float)}
    if shown:
        print(f"  last logged: {shown}")


COMMANDS.add(
    "train",
    Command(
        "train a recipe (or resume a run)",
        _add,
        run,
        (
            "ganarium train dcgan --data digits train.steps=3000",
            "ganarium train stylegan2 --preset paper256 --data folder data.root=ffhq/",
            "ganarium train --resume runs/dcgan-digits-20261122-101500 train.steps=6000",
        ),
        description="ganarium train RECIPE [--preset NAME] --data NAME [key=value ...]; keys "
        "are data.*, model.*, train.* (bare keys resolve when unambiguous; `ganarium info RECIPE` "
        "lists a recipe's model.* keys and presets; docs/reproduce.md the papers' commands).",
        order=20,
        takes_overrides=True,
    ),
)
