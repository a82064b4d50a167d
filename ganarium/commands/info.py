"""`ganarium info RECIPE`: a recipe's paper, family, data kinds, every hyper-parameter with its
default and meaning, what it offers, the learning check that proves it learns, and its presets.

`ganarium info RECIPE --preset NAME [--data NAME [key=value ...]] [--json]` counts each player's
parameters in the preset's nets (``{"nets": {"G": ..., "D": ...}}``, what each optimizer steps,
EMA copies excluded) beside the official figures. The nets are built on the meta device, so
nothing is allocated: for the preset's own data shape, or for the shape and classes of
``--data`` (a folder dataset is listed, not read; an in-memory one is loaded).
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="a recipe name (see `ganarium list`)")
    p.add_argument(
        "--preset",
        metavar="NAME",
        help="count this preset's parameters per player (built on the meta device) beside the "
        "official figures",
    )
    p.add_argument(
        "--data",
        metavar="NAME",
        help="with --preset: build for this dataset's shape and classes instead of the paper's; "
        "key=value options (data.*, model.*) may follow",
    )
    p.add_argument("--json", action="store_true", help="with --preset: print JSON")


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
    specs = cls.Hparams.specs()
    width = max(len(k) for k in cls.defaults)
    for key, default in cls.defaults.items():
        shown = repr(list(default) if isinstance(default, tuple) else default)
        pad = f"  {'':<{width}}  {'':<14} "
        meaning = textwrap.wrap(specs[key].help + _allows(specs[key]), max(40, 100 - len(pad)))
        if len(shown) > 14:  # a long default gets its own line, the meaning the next
            lines.append(f"  {key:<{width}}  {shown}")
        else:
            lines.append(f"  {key:<{width}}  {shown:<14} {meaning.pop(0) if meaning else ''}")
        lines += [pad + line for line in meaning]
    check = meta.get("check")
    lines += _offers(cls, check)
    if check is not None:
        bars = CHECK_KINDS.get(check.kind).describe(dict(check.bars))
        where = f"{check.data} {check.data_options.get('size', '')}".strip()
        lines += ["", f"learning check ({check.kind}, {where}, {check.steps} steps):", f"  {bars}"]
        if check.model:
            lines.append(f"  with {', '.join(f'{k}={v}' for k, v in check.model.items())}")
        if check.reason:
            lines += ["  note: " + line for line in textwrap.wrap(check.reason, 90)]
    lines += _preset_lines(name)
    lines += ["", f"train it: ganarium train {name} --data {check.data if check else 'digits'}"]
    return "\n".join(lines)


def _preset_lines(name: str) -> list[str]:
    """The recipe's presets: name, title and where the settings come from."""
    from ganarium.presets import load_preset, preset_names

    names = preset_names(name)
    if not names:
        return []
    lines = ["", f"presets (ganarium train {name} --preset NAME --data ...; docs/reproduce.md):"]
    width = max(len(n) for n in names)
    for n in names:
        preset = load_preset(name, n)
        lines += [f"  {n:<{width}}  {preset.title}", f"  {'':<{width}}  from {preset.source}"]
    return lines


def preset_counts(
    recipe: str, preset: str, data: str | None = None, overrides: list[str] | None = None
) -> dict[str, Any]:
    """What `ganarium info RECIPE --preset NAME [--data ...] --json` prints: the shape the nets
    were built for, each player's parameter total (``nets``) and the preset's ``official``
    figures. With ``data``, the nets are built for that dataset's DataInfo with the preset's
    settings, the data options and the ``overrides`` applied as `ganarium train` would."""
    import torch

    from ganarium.presets import build_preset_recipe, load_preset, player_parameter_counts

    p = load_preset(recipe, preset)
    if data is None:
        built = build_preset_recipe(recipe, preset, device="meta")
    else:
        from ganarium.config import build_config
        from ganarium.data import dataset_info, load_dataset
        from ganarium.runs import build_recipe, data_options

        cfg = build_config(recipe, data, overrides, preset=preset)
        info = dataset_info(load_dataset(data, **data_options(cfg)))
        with torch.device("meta"):
            built = build_recipe(cfg, info, trust_code=True)  # the user typed these options
    return {
        "recipe": recipe,
        "preset": preset,
        "data": data,
        "shape": list(built.info.shape),
        "num_classes": built.info.num_classes,
        "nets": player_parameter_counts(built),
        "official": p.official,
    }


def _compare(built: int, official: int | None) -> str:
    if official is None:
        return ""
    if built == official:
        return "equal"
    return f"{100 * (built - official) / official:+.2f}% ({built - official:+,})"


def describe_counts(counts: dict[str, Any]) -> str:
    """The text `ganarium info RECIPE --preset NAME` prints."""
    from ganarium.presets import load_preset

    p = load_preset(counts["recipe"], counts["preset"])
    shape = "x".join(str(s) for s in counts["shape"])
    where = f"data {counts['data']}" if counts["data"] else "the preset's data shape"
    official = counts["official"].get("params", {})
    match = counts["official"].get("match", "exact")
    lines = [
        f"{counts['recipe']} --preset {counts['preset']}: {p.title}",
        f"  settings from: {p.source}",
        f"  built for {shape}, {counts['num_classes']} classes ({where}), on the meta device",
        "",
        f"  {'player':<8} {'built':>14} {'official':>14}  {'(' + match + ')' if official else ''}",
    ]
    for player, n in counts["nets"].items():
        o = official.get(player)
        shown = f"{o:,}" if o is not None else "-"
        lines.append(f"  {player:<8} {n:>14,} {shown:>14}  {_compare(n, o)}")
    if counts["official"].get("source"):
        lines += ["", f"  official figures: {counts['official']['source']}"]
    if p.reproduce.get("command"):
        lines.append(f"  reproduce: {p.reproduce['command']}")
    return "\n".join(lines)


def _allows(spec: Any) -> str:
    """What a key allows, as a suffix of its help line: its choices or its rule."""
    if spec.choices is not None:
        return " [" + " | ".join(str(c) for c in spec.choices) + "]"
    return f" [{spec.rule}]" if spec.rule else ""


def _offers(cls, check) -> list[str]:
    """What the recipe offers beyond plain sampling, built on its check's data: the capability
    names, then each one's line from the capability registry."""
    if check is None:
        return []
    from ganarium.capabilities import CAPABILITIES
    from ganarium.data import dataset_info, load_dataset

    info = dataset_info(load_dataset(check.data, **check.data_options))
    offered = cls(info, **check.model).capabilities().offered()
    if not offered:
        return []
    width = max(len(name) for name in offered)
    lines = ["", f"offers: {', '.join(offered)}"]
    for name in offered:
        lines.append(f"  {name:<{width}}  {CAPABILITIES.get(name).doc}")
    return lines


def run(args: argparse.Namespace) -> None:
    if args.preset is None:
        given = [f for f, v in (("--data", args.data), ("--json", args.json)) if v]
        given += args.overrides[:1]
        if given:
            raise UsageError(f"{given[0]} needs --preset NAME (see `ganarium info {args.recipe}`)")
        print(describe(args.recipe))
        return
    if args.overrides and args.data is None:
        raise UsageError(
            f"{args.overrides[0]}: key=value options need --data NAME (they apply to a dataset)"
        )
    counts = preset_counts(args.recipe, args.preset, args.data, args.overrides)
    print(json.dumps(counts, indent=2) if args.json else describe_counts(counts))


COMMANDS.add(
    "info",
    Command(
        "a recipe's paper, hyper-parameters with defaults and meaning, its learning check and "
        "presets (--preset NAME: their parameter counts)",
        _add,
        run,
        (
            "ganarium info wgan-gp",
            "ganarium info stylegan2 --preset paper256",
            "ganarium info stylegan2 --preset paper256 --data folder data.root=ffhq/ --json",
        ),
        order=11,
        takes_overrides=True,
    ),
)
