"""`ganarium info RECIPE`: a recipe's paper, family, data kinds, every hyper-parameter with its
default and meaning, what it offers, and the learning check that proves it learns."""

from __future__ import annotations

import argparse
import textwrap

from ganarium.commands import COMMANDS, Command


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="a recipe name (see `ganarium list`)")


def describe(name: str) -> str:
    """The text `ganarium info` prints for recipe ``name``."""
    from ganarium.checks import CHECK_KINDS
    from ganarium.models import RECIPES

    cls, meta = RECIPES.get(name), RECIPES.meta(name)
    lines = [
        f"{name}: {meta['paper']} ({meta['year']})",
        f"  family: {meta['family']}    data: {', '.join(meta['data'])}"
        + ("    needs labels" if cls.requires_labels else ""),
    ]
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        lines += [""] + ["  " + line for line in textwrap.wrap(" ".join(doc.split()), 94)]
    lines += ["", "hyper-parameters (model.KEY=VALUE):"]
    helps = cls.describe_hparams()
    width = max(len(k) for k in cls.defaults)
    for key, default in cls.defaults.items():
        shown = repr(list(default) if isinstance(default, tuple) else default)
        if len(shown) > 14:  # a long default gets its own line, the meaning the next
            lines += [f"  {key:<{width}}  {shown}", f"  {'':<{width}}  {'':<14} {helps[key]}"]
        else:
            lines.append(f"  {key:<{width}}  {shown:<14} {helps[key]}")
    check = meta.get("check")
    offered = _offers(cls, check)
    if offered:
        lines += ["", f"offers: {offered}"]
    if check is not None:
        bars = CHECK_KINDS.get(check.kind).describe(dict(check.bars))
        where = f"{check.data} {check.data_options.get('size', '')}".strip()
        lines += ["", f"learning check ({check.kind}, {where}, {check.steps} steps):", f"  {bars}"]
        if check.model:
            lines.append(f"  with {', '.join(f'{k}={v}' for k, v in check.model.items())}")
        if check.reason:
            lines += ["  note: " + line for line in textwrap.wrap(check.reason, 90)]
    lines += ["", f"train it: ganarium train {name} --data {check.data if check else 'digits'}"]
    return "\n".join(lines)


def _offers(cls, check) -> str:
    """What the recipe declares beyond plain sampling, built on its check's data."""
    if check is None:
        return ""
    from ganarium.data import dataset_info, load_dataset

    info = dataset_info(load_dataset(check.data, **check.data_options))
    caps = cls(info, **check.model).capabilities()
    return ", ".join(caps.offered())


def run(args: argparse.Namespace) -> None:
    print(describe(args.recipe))


COMMANDS.add(
    "info",
    Command(
        "a recipe's paper, hyper-parameters with defaults and meaning, and its learning check",
        _add,
        run,
        ("ganarium info wgan-gp", "ganarium info triplegan"),
        order=11,
    ),
)
