"""`ganarium sample RUN`: a grid, a folder of PNGs or an .npz of samples, or one of the grids a
recipe offers (codes, style mixing, a latent walk, captions, instances, DRAW's canvas,
translations of held-out inputs), chosen from what the run's recipe declares it can do."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import (
    UsageError,
    existing_file,
    positive_float,
    positive_int,
    writable_dir,
    writable_file,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory (what `ganarium train` printed)")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument(
        "--out",
        default="samples.png",
        help="an image file (one grid), a folder ending in / (one PNG per sample) or a .npz file "
        "(uint8 array 'images', N x H x W x C; vector data: float 'samples')",
    )
    p.add_argument("--label", type=int, help="class to generate (conditional recipes)")
    p.add_argument("--grid-by-class", action="store_true", help="one row per class")
    p.add_argument(
        "--truncation", type=float, help="truncation trick (BigGAN: threshold; style GANs: psi)"
    )
    p.add_argument(
        "--vary-code", metavar="CODE", help="latent code traversal grid (InfoGAN), e.g. c1"
    )
    p.add_argument("--mix", action="store_true", help="style-mixing grid (style-based recipes)")
    p.add_argument("--interpolate", type=int, metavar="STEPS", help="a latent walk of STEPS images")
    p.add_argument("--caption", help='text to draw, e.g. "a thick 7 leaning right" (StackGAN)')
    p.add_argument(
        "--instance", metavar="IMAGE", help="condition on this image's instance features (IC-GAN)"
    )
    p.add_argument("--steps", action="store_true", help="the canvas after each drawing step (DRAW)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling noise")
    p.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="samples per generator call (the noise drawn depends on it; `eval` draws 500 at a time)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code the run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


GRID_MODES = ("vary_code", "mix", "interpolate", "caption", "instance", "steps")


def _labels_for(recipe, args: argparse.Namespace, n: int):
    import torch

    if args.label is None and not args.grid_by_class:
        return None, max(1, int(math.sqrt(n)))
    if not recipe.capabilities().conditional:
        raise UsageError(
            f"recipe {recipe.name!r} was not trained with labels: drop --label/--grid-by-class"
        )
    k = recipe.info.num_classes
    if args.grid_by_class:
        per = max(1, n // k)
        return torch.arange(k).repeat_interleave(per), per
    if not 0 <= args.label < k:
        raise UsageError(f"--label {args.label} is out of range: the data has classes 0..{k - 1}")
    return torch.full((n,), args.label, dtype=torch.long), max(1, int(math.sqrt(n)))


def _offered_grid(recipe, args: argparse.Namespace):
    """(images, nrow) of the grid mode asked for, or None for plain sampling."""
    import torch

    from ganarium.data.folder import read_image

    if args.vary_code:
        recipe.require("codes", "--vary-code")
        return recipe.code_traversal(args.vary_code)
    if args.mix:
        recipe.require("mixing", "--mix")
        return recipe.style_mixing()
    if args.interpolate is not None:
        if args.interpolate < 2:
            raise UsageError(f"--interpolate {args.interpolate} must be at least 2 steps")
        recipe.require("latent_dim", "--interpolate")
        return recipe.interpolate(args.interpolate, (args.seed, args.seed + 1)), args.interpolate
    if args.caption is not None:
        recipe.require("captions", "--caption")
        return recipe.generate_from_captions([args.caption] * args.n), max(
            1, int(math.sqrt(args.n))
        )
    if args.instance is not None:
        recipe.require("instances", "--instance")
        c, h, _ = recipe.info.shape
        image = read_image(existing_file(args.instance, "--instance"), h, c)
        return recipe.generate_from_instances(image[None], args.n), max(1, int(math.sqrt(args.n)))
    if args.steps:
        recipe.require("canvas", "--steps")
        return recipe.canvas_steps(min(args.n, 8))
    if recipe.capabilities().translate:  # input | output | target rows of held-out pairs
        from ganarium.data.stream import fixed_examples
        from ganarium.runs import held_out_data

        data = held_out_data(recipe.config)
        if data is None:
            raise UsageError(f"the run's data {recipe.info.name!r} has no test split to translate")
        with torch.random.fork_rng():
            examples = fixed_examples(data, min(args.n, len(data)), args.seed)
        preview = recipe.preview(len(examples["image"]), examples)
        return preview.images, preview.nrow
    return None


def run(args: argparse.Namespace) -> None:
    import torch

    from ganarium.runs import load_recipe

    positive_int(args.n, "--n", "ask for one or more samples")
    positive_int(args.batch_size, "--batch-size")
    if args.truncation is not None:
        positive_float(args.truncation, "--truncation")
    asked = [m for m in GRID_MODES if getattr(args, m) not in (None, False)]
    if len(asked) > 1:
        flags = ", ".join("--" + m.replace("_", "-") for m in asked)
        raise UsageError(f"{flags} each draw their own grid: use one at a time")
    recipe = load_recipe(args.run, device=args.device, trust_code=args.trust_code)
    out = _output(args.out, grid_only=bool(asked))
    torch.manual_seed(args.seed)
    extra = {}
    if args.truncation is not None:
        recipe.require("truncation", "--truncation")
        extra["truncation"] = args.truncation
    grid = _offered_grid(recipe, args)
    if grid is not None:
        if out.kind != "grid":
            raise UsageError(
                f"this grid is one picture: pass --out as an image file, not {out.path}"
            )
        _save_grid(grid[0], out.path, grid[1])
        print(f"wrote {len(grid[0])} images to {out.path}")
        return
    labels, nrow = _labels_for(recipe, args, args.n)
    n = len(labels) if labels is not None else args.n
    if labels is not None:
        extra["labels"] = labels
    write_samples(recipe, n, out, nrow, args.batch_size, extra)


class Output:
    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind


def _output(path: str, grid_only: bool) -> Output:
    """Where samples go: a folder (trailing / or an existing folder), an .npz, a .pt, or a grid."""
    p = Path(path).expanduser()
    if path.endswith(("/", "\\")) or p.is_dir():
        if grid_only:
            raise UsageError(f"--out {path} is a folder, but this grid is one picture: pass a .png")
        return Output(writable_dir(path, "--out"), "folder")
    if p.suffix.lower() in (".npz", ".pt"):
        return Output(writable_file(path, "--out"), p.suffix.lower().lstrip("."))
    return Output(writable_file(path, "--out", IMAGE_SUFFIXES), "grid")


def _save_grid(images, path: Path, nrow: int) -> None:
    from torchvision.utils import save_image

    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1, 1))


def to_uint8(images):
    """[-1, 1] float NCHW -> uint8 NHWC, as PNG files store them."""
    import torch

    x = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1)


def write_samples(recipe, n: int, out: Output, nrow: int, batch_size: int, extra: dict) -> None:
    """Generate ``n`` samples in batches (never all in memory for folders) and write them."""
    import numpy as np
    import torch
    from PIL import Image
    from tqdm.auto import tqdm

    image = recipe.info.kind == "image"
    if out.kind == "grid" and not image:
        out = Output(out.path.with_suffix(".pt"), "pt")
    if out.kind == "folder" and not image:
        raise UsageError(
            f"recipe data {recipe.info.name!r} are vectors, not images: use --out x.npz"
        )
    kept = []
    bar = tqdm(total=n, desc="sampling", unit="img", disable=n <= batch_size, file=sys.stderr)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        kw = {
            k: (v[start : start + m] if isinstance(v, torch.Tensor) else v)
            for k, v in extra.items()
        }
        with torch.no_grad():
            x = recipe.generate(m, **kw).float().cpu()
        if out.kind == "folder":
            for i, arr in enumerate(to_uint8(x).numpy()):
                mode = "L" if arr.shape[-1] == 1 else "RGB"
                Image.fromarray(arr.squeeze(-1) if mode == "L" else arr, mode).save(
                    out.path / f"{start + i:06d}.png"
                )
        else:
            kept.append(to_uint8(x) if image and out.kind == "npz" else x)
        bar.update(m)
    bar.close()
    if out.kind == "folder":
        print(f"wrote {n} PNG files to {out.path}/")
        return
    x = torch.cat(kept)
    if out.kind == "npz":
        np.savez(out.path, **({"images": x.numpy()} if image else {"samples": x.numpy()}))
    elif out.kind == "pt":
        torch.save(x, out.path)
    else:
        _save_grid(x, out.path, nrow)
    print(f"wrote {n} samples to {out.path}")


COMMANDS.add(
    "sample",
    Command(
        "draw samples from a trained run (a grid, a folder of PNGs, an .npz, or a recipe's grids)",
        _add,
        run,
        (
            "ganarium sample runs/dcgan-digits-1 --n 64 --out grid.png",
            "ganarium sample runs/dcgan-digits-1 --n 10000 --out fakes/   # one PNG per sample",
            "ganarium sample runs/cgan-digits-1 --grid-by-class --out classes.png",
        ),
        order=30,
    ),
)
