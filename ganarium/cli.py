"""`ganarium list | train | sample | eval | export | edit | report` (see `ganarium COMMAND --help`)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ganarium.errors import GanariumError


def cmd_list(args: argparse.Namespace) -> None:
    from ganarium.data import DATASETS
    from ganarium.models import RECIPES

    rows = [
        (n, str(RECIPES.meta(n)["year"]), RECIPES.meta(n)["family"], RECIPES.meta(n)["paper"])
        for n in RECIPES.names()
    ]
    rows.sort(key=lambda r: (r[2], r[1], r[0]))
    w = [max(len(r[i]) for r in rows + [("recipe", "year", "family", "")]) for i in range(3)]
    print(f"{'recipe':<{w[0]}}  {'year':<{w[1]}}  {'family':<{w[2]}}  paper")
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
    print(f"\n{len(rows)} recipes. Datasets: {', '.join(DATASETS.names())}")


def _evaluators(info, every: int):
    if every <= 0:
        return []
    from ganarium.metrics.periodic import periodic_evaluator

    ev = periodic_evaluator(info)
    return [ev] if ev is not None else []


def cmd_train(args: argparse.Namespace) -> None:
    from ganarium.runs import resume_run, start_run

    if args.resume:
        if args.recipe and "=" in args.recipe:  # argparse puts the first override there
            args.overrides.insert(0, args.recipe)
        elif args.recipe:
            raise GanariumError(
                f"--resume takes no recipe ({args.recipe!r}): the run's config names it"
            )
        trainer = resume_run(args.resume, overrides=args.overrides)
        print(f"resuming {trainer.run.path} at step {trainer.step}", file=sys.stderr)
    else:
        if not args.recipe or not args.data:
            raise GanariumError(
                "train needs a recipe and --data (or --resume RUN_DIR); see `ganarium list`"
            )
        trainer = start_run(args.recipe, args.data, args.overrides, args.config, args.run_dir)
    trainer.evaluators = _evaluators(trainer.recipe.info, trainer.cfg.eval_every)
    try:
        history = trainer.fit()
    except KeyboardInterrupt:
        raise GanariumError(
            f"interrupted at step {trainer.step}; continue with `ganarium train --resume {trainer.run.path}`"
        ) from None
    run = trainer.run
    last = history[-1] if history else {}
    print(f"trained {trainer.recipe.name} for {trainer.step} steps -> {run.path}")
    print(f"  samples:     {run.samples}/")
    print(f"  metrics:     {run.metrics}")
    print(f"  checkpoint:  {run.latest}")
    from ganarium.report import write_report

    print(f"  report:      {write_report(run.path)}")
    shown = {k: round(v, 4) for k, v in last.items() if k != "step" and isinstance(v, float)}
    if shown:
        print(f"  last logged: {shown}")


def _labels_for(recipe, args, n: int):
    import torch

    if args.label is None and not args.grid_by_class:
        return None, n
    if not recipe.capabilities().conditional:
        raise GanariumError(
            f"recipe {recipe.name!r} was not trained with labels: drop --label/--grid-by-class"
        )
    k = recipe.info.num_classes
    if args.grid_by_class:
        per = max(1, n // k)
        return torch.arange(k).repeat_interleave(per), per
    if not 0 <= args.label < k:
        raise GanariumError(
            f"--label {args.label} is out of range: the data has classes 0..{k - 1}"
        )
    return torch.full((n,), args.label, dtype=torch.long), int(math.sqrt(n))


def cmd_sample(args: argparse.Namespace) -> None:
    import torch
    from torchvision.utils import save_image

    from ganarium.models import generate_batched
    from ganarium.runs import load_recipe

    torch.manual_seed(args.seed)
    recipe = load_recipe(args.run, device=args.device)
    extra = {}
    if args.truncation is not None:
        recipe.require("truncation", "--truncation")
        extra["truncation"] = args.truncation
    if args.vary_code:
        recipe.require("codes", "--vary-code")
        x, nrow = recipe.code_traversal(args.vary_code)
    else:
        labels, nrow = _labels_for(recipe, args, args.n)
        n = len(labels) if labels is not None else args.n
        if labels is not None:
            extra["labels"] = labels
        x = generate_batched(recipe, n, **extra)
        nrow = nrow if labels is not None else int(math.sqrt(n)) or 1
    if recipe.info.kind != "image":
        out = Path(args.out).with_suffix(".pt")
        torch.save(x, out)
        print(f"wrote {len(x)} samples to {out}")
        return
    save_image(x.float().cpu(), args.out, nrow=nrow, normalize=True, value_range=(-1, 1))
    print(f"wrote {len(x)} samples to {args.out}")


def cmd_eval(args: argparse.Namespace) -> None:
    from ganarium.metrics.evaluate import evaluate_folders, format_table
    from ganarium.runs import evaluate_run

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if args.real or args.fake:
        if not (args.real and args.fake):
            raise GanariumError("folder evaluation needs both --real DIR and --fake DIR")
        extractor = "inception" if args.extractor == "auto" else args.extractor
        res = evaluate_folders(
            args.real,
            args.fake,
            metrics,
            extractor,
            inception_weights=args.inception_weights,
            device=args.device,
        )
    else:
        if not args.run:
            raise GanariumError("eval needs a RUN_DIR, or --real DIR --fake DIR")
        res = evaluate_run(
            args.run,
            metrics,
            args.n,
            args.extractor,
            inception_weights=args.inception_weights,
            device=args.device,
        )
        from ganarium.report import write_report

        write_report(args.run)  # the report shows the latest evaluation
    print(format_table(res))


def cmd_report(args: argparse.Namespace) -> None:
    from ganarium.report import write_report

    print(write_report(args.run, args.out))


def cmd_export(args: argparse.Namespace) -> None:
    from ganarium.export import export_run

    out = export_run(args.run, args.out)
    print(f"exported {args.run} -> {out} (load with ganarium.load({str(out)!r}))")


def cmd_edit(args: argparse.Namespace) -> None:
    from torchvision.utils import save_image

    from ganarium.data.folder import read_image
    from ganarium.runs import load_recipe

    recipe = load_recipe(args.run, device=args.device)
    recipe.require("edit")
    c, h, _ = recipe.info.shape
    x = read_image(Path(args.image), h, c).unsqueeze(0)
    out = recipe.edit(x, args.label)
    save_image(out.float().cpu(), args.out, normalize=True, value_range=(-1, 1))
    print(f"wrote {args.out}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganarium", description="Train, sample and evaluate GANs.")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="recipes with paper, year and family").set_defaults(func=cmd_list)

    t = sub.add_parser(
        "train",
        help="train a recipe (or resume a run)",
        description="ganarium train RECIPE --data NAME [key=value ...]; keys are "
        "data.*, model.*, train.* (bare keys resolve when unambiguous)",
    )
    t.add_argument(
        "recipe", nargs="?", help="recipe name (see `ganarium list`), then key=value overrides"
    )
    t.add_argument("--data", help="dataset name (digits, ring8, grid25, folder, mnist, ...)")
    t.add_argument("--config", help="YAML file merged before the overrides")
    t.add_argument("--run-dir", help="where to write the run (default runs/<recipe>-<data>-<time>)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its latest checkpoint")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="write a grid of samples from a trained run")
    s.add_argument("run")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", default="samples.png")
    s.add_argument("--label", type=int, help="class to generate (conditional recipes)")
    s.add_argument("--grid-by-class", action="store_true", help="one row per class")
    s.add_argument("--truncation", type=float, help="truncation threshold (BigGAN)")
    s.add_argument("--vary-code", help="latent code traversal grid (InfoGAN), e.g. c1")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("eval", help="evaluate a run, or two image folders")
    e.add_argument("run", nargs="?")
    e.add_argument(
        "--metrics", default="fid,kid,pr,dc", help="comma list of fid,kid,is,pr,dc,modes,exact"
    )
    e.add_argument("--n", type=int, default=10000)
    e.add_argument("--real")
    e.add_argument("--fake")
    e.add_argument(
        "--extractor",
        default="auto",
        help="auto (the run's data decides: digit-classifier for digits, pixels for toy/shapes, "
        "else inception; inception for --real/--fake), inception, digit-classifier, "
        "digit-classifier-x3, pixels",
    )
    e.add_argument("--inception-weights", help="local pt_inception-2015-12-05 weights file")
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=cmd_eval)

    x = sub.add_parser("export", help="export a run's generator as safetensors + JSON")
    x.add_argument("run")
    x.add_argument("--out", required=True)
    x.set_defaults(func=cmd_export)

    d = sub.add_parser("edit", help="re-generate an image with another label (IcGAN)")
    d.add_argument("run")
    d.add_argument("--image", required=True)
    d.add_argument("--label", type=int, required=True)
    d.add_argument("--out", default="edited.png")
    d.add_argument("--device", default="cpu")
    d.set_defaults(func=cmd_edit)

    r = sub.add_parser("report", help="write a run's self-contained HTML report")
    r.add_argument("run")
    r.add_argument("--out", help="where to write it (default RUN/report.html)")
    r.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    overrides = [a for a in rest if "=" in a and not a.startswith("-")]
    if len(overrides) != len(rest) or (rest and args.command != "train"):
        parser.error(
            f"unrecognized arguments: {' '.join(a for a in rest if a not in overrides or args.command != 'train')}"
        )
    args.overrides = overrides
    try:
        args.func(args)
    except GanariumError as e:
        print(f"ganarium: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
