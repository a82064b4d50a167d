"""`ganarium eval RUN` (samples of a run against its held-out data), `ganarium eval RUN --fake
DIR` (a folder of the run's samples, e.g. from `sample --out DIR/`), and `ganarium eval --real
DIR --fake DIR` (two folders)."""

from __future__ import annotations

import argparse

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError, existing_dir, positive_int


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", nargs="?", help="a run directory (or none, with --real and --fake)")
    p.add_argument(
        "--metrics",
        default="fid,kid,pr,dc",
        help="comma list of fid, kid, is, pr (precision/recall/F1), dc (density/coverage), "
        "modes, exact",
    )
    p.add_argument("--n", type=int, default=10000, help="number of samples to draw from the run")
    p.add_argument("--real", metavar="DIR", help="a folder of real images (with --fake)")
    p.add_argument(
        "--fake",
        metavar="DIR",
        help="a folder of generated images: with RUN, the run's samples (scored against the "
        "run's data); with --real, compared with that folder",
    )
    p.add_argument(
        "--extractor",
        default="auto",
        help="feature extractor: auto (the run's data decides: digit-classifier for digits, "
        "pixels for toy/shapes, else inception; inception for --real/--fake), inception, "
        "digit-classifier, digit-classifier-x3, pixels",
    )
    p.add_argument("--inception-weights", help="a local pt_inception-2015-12-05 weights file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code the run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


def run(args: argparse.Namespace) -> None:
    from ganarium.metrics.evaluate import check_metrics, evaluate_folders, format_table
    from ganarium.runs import evaluate_run

    metrics = check_metrics([m.strip() for m in args.metrics.split(",") if m.strip()])
    if not metrics:
        raise UsageError(
            "--metrics is empty: name one or more of fid, kid, is, pr, dc, modes, exact"
        )
    positive_int(args.n, "--n", "ask for one or more samples")
    if args.real:
        if not args.fake:
            raise UsageError("folder evaluation needs both --real DIR and --fake DIR")
        if args.run:
            raise UsageError("pass a RUN or --real DIR, not both")
        real, fake = existing_dir(args.real, "--real"), existing_dir(args.fake, "--fake")
        extractor = "inception" if args.extractor == "auto" else args.extractor
        res = evaluate_folders(
            str(real),
            str(fake),
            metrics,
            extractor,
            inception_weights=args.inception_weights,
            device=args.device,
        )
    else:
        if not args.run:
            raise UsageError("eval needs a RUN_DIR, or --real DIR --fake DIR")
        fake = str(existing_dir(args.fake, "--fake")) if args.fake else None
        res = evaluate_run(
            args.run,
            metrics,
            args.n,
            args.extractor,
            inception_weights=args.inception_weights,
            device=args.device,
            fake_dir=fake,
            trust_code=args.trust_code,
        )
        from ganarium.report import write_report

        write_report(args.run, trust_code=args.trust_code)  # shows the latest evaluation
    print(format_table(res))


COMMANDS.add(
    "eval",
    Command(
        "evaluate a run, a folder of its samples, or two image folders",
        _add,
        run,
        (
            "ganarium eval runs/dcgan-digits-1 --metrics fid,kid,pr,modes --n 10000",
            "ganarium eval runs/dcgan-digits-1 --fake fakes/   # samples written by `sample --out fakes/`",
            "ganarium eval --real photos/ --fake fakes/ --inception-weights pt_inception.pth",
        ),
        order=40,
    ),
)
