"""`ganarium study SPEC.yaml|PRESET`: a large-scale comparison (Lucic et al. 2018, "Are GANs
Created Equal?") on Ray Tune or a local process pool, with a results table and study.html.

Running the same command again continues the study: finished trials are not run again,
interrupted ones resume from their checkpoints, failed ones stay recorded (``--retry-failed``
runs them again).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError, positive_float, positive_int
from ganarium.errors import GanariumError


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def _short(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def default_backend() -> str:
    return "ray" if importlib.util.find_spec("ray") is not None else "local"


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "spec", help="a study spec (YAML) or a preset: lucic2018, lucic2018-narrow, small"
    )
    p.add_argument("--out", help="the study directory (default: studies/<spec name>)")
    p.add_argument(
        "--backend",
        choices=("ray", "local"),
        default=default_backend(),
        help="ray: each trial a Ray Tune trial; local: a process pool without Ray",
    )
    p.add_argument(
        "--address",
        help="an existing Ray cluster: auto, or the head's HOST:PORT (default: start a local Ray)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="scale every trial's training steps by this factor (e.g. 0.05)",
    )
    p.add_argument("--samples", type=int, help="hyper-parameter samples per recipe and dataset")
    p.add_argument("--seeds", type=int, help="training runs (random restarts) per sample")
    p.add_argument("--recipes", help="only these of the spec's recipes, comma-separated")
    p.add_argument("--datasets", help="only these of the spec's datasets, comma-separated")
    p.add_argument(
        "--cpus", type=int, help="CPUs for the study (local Ray or pool; default: all of them)"
    )
    p.add_argument("--gpus", type=int, help="GPUs a local Ray may use (default: those it finds)")
    p.add_argument(
        "--cpus-per-trial", type=float, help="CPUs each trial holds (spec: resources.cpu)"
    )
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        help="GPUs each trial holds, fractions allowed on Ray, e.g. 0.25 (spec: resources.gpu)",
    )
    p.add_argument(
        "--asha",
        action="store_true",
        help="stop hopeless trials early (ASHA on the objective during training); off by "
        "default so the paper's protocol is reproduced exactly",
    )
    p.add_argument(
        "--retry-failed", action="store_true", help="run failed trials again from scratch"
    )
    p.add_argument("--no-report", action="store_true", help="do not write STUDY/study.html")
    p.add_argument(
        "--plan", action="store_true", help="print the trials and their steps, then stop"
    )
    p.add_argument(
        "--print-spec", action="store_true", help="print the resolved spec as YAML, then stop"
    )


def resolved_spec(args: argparse.Namespace):
    from ganarium.study.runner import resolve_spec
    from ganarium.study.spec import restrict

    spec = resolve_spec(args.spec)
    spec = restrict(spec, _names(args.recipes), _names(args.datasets), args.samples, args.seeds)
    spec = spec.scaled(positive_float(args.budget, "--budget"))
    resources = dict(spec.resources)
    if args.cpus_per_trial is not None:
        resources["cpu"] = positive_float(args.cpus_per_trial, "--cpus-per-trial")
    if args.gpus_per_trial is not None:
        if args.gpus_per_trial < 0:
            raise UsageError(f"--gpus-per-trial {args.gpus_per_trial} must be 0 or more")
        resources["gpu"] = args.gpus_per_trial
    asha = {**spec.asha, "enabled": True} if args.asha else spec.asha
    return dataclasses.replace(spec, resources=resources, asha=asha)


def run(args: argparse.Namespace) -> None:
    from ganarium.study.runner import run_study

    spec = resolved_spec(args)
    if args.cpus is not None:
        positive_int(args.cpus, "--cpus")
    if args.address and args.backend != "ray":
        raise UsageError("--address names a Ray cluster: use it with --backend ray")
    if args.address:
        from ganarium.study.ray_backend import check_address

        check_address(args.address)  # before the datasets load, so a typo fails at once
    if args.print_spec:
        print(spec.to_yaml(), end="")
        return
    if args.plan:
        from ganarium.study.trials import expand, validate_spec

        trials = expand(spec, validate_spec(spec))
        for t in trials:
            params = " ".join(f"{k}={_short(v)}" for k, v in t.params.items() if v is not None)
            print(f"{t.id}  steps={t.steps}  {params}")
        print(f"{len(trials)} trials, {sum(t.steps for t in trials)} generator steps in all")
        return
    out = args.out or os.path.join("studies", spec.name)
    try:
        run_study(
            spec,
            out,
            backend=args.backend,
            address=args.address,
            cpus=args.cpus,
            gpus=args.gpus,
            retry_failed=args.retry_failed,
            report=not args.no_report,
        )
    except KeyboardInterrupt:
        raise GanariumError(
            f"interrupted; run the same command again to continue the study in {out}"
        ) from None


COMMANDS.add(
    "study",
    Command(
        "run a large-scale study (many recipes, datasets, hyper-parameters) on Ray or locally",
        _add,
        run,
        (
            "ganarium study small --backend local",
            "ganarium study lucic2018 --budget 0.05 --samples 10 --datasets digits,fashion-mnist",
            "ganarium study my_study.yaml --address auto --gpus-per-trial 0.25",
        ),
        description=__doc__.splitlines()[0],
        order=80,
    ),
)
