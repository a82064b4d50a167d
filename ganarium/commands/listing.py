"""`ganarium list` (recipes, filtered by family) and `ganarium info RECIPE` (everything a recipe
can be told, and how it proves it learns)."""

from __future__ import annotations

import argparse

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError


def _add_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--family", help="only recipes of this family (e.g. loss, conditional)")


def run_list(args: argparse.Namespace) -> None:
    from ganarium.data import DATASETS
    from ganarium.errors import suggest
    from ganarium.models import RECIPES

    names = RECIPES.names()
    families = sorted({RECIPES.meta(n)["family"] for n in names})
    if args.family is not None:
        if args.family not in families:
            raise UsageError(
                f"--family {args.family!r} is no recipe family.{suggest(args.family, families)} "
                f"Families: {', '.join(families)}"
            )
        names = [n for n in names if RECIPES.meta(n)["family"] == args.family]
    rows = [
        (n, str(RECIPES.meta(n)["year"]), RECIPES.meta(n)["family"], RECIPES.meta(n)["paper"])
        for n in names
    ]
    rows.sort(key=lambda r: (r[2], r[1], r[0]))
    w = [max(len(r[i]) for r in rows + [("recipe", "year", "family", "")]) for i in range(3)]
    print(f"{'recipe':<{w[0]}}  {'year':<{w[1]}}  {'family':<{w[2]}}  paper")
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
    print(f"\n{len(rows)} recipes. Datasets: {', '.join(DATASETS.names())}")
    print("Families: " + ", ".join(families) + ". Details: ganarium info RECIPE")


COMMANDS.add(
    "list",
    Command(
        "recipes with paper, year and family",
        _add_list,
        run_list,
        ("ganarium list", "ganarium list --family conditional"),
        order=10,
    ),
)
