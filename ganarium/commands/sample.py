"""`ganarium sample RUN`: a grid, a folder of PNGs or an .npz of samples, or one of the grids a
recipe offers, chosen from what the run's recipe declares it can do. Each capability
(ganarium.capabilities) brings its own flags and draws its own grid; this command knows none
of them by name."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import (
    UsageError,
    positive_int,
    writable_dir,
    writable_file,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _capabilities() -> list:
    from ganarium.capabilities import CAPABILITIES

    return [CAPABILITIES.get(name) for name in CAPABILITIES.names()]


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory (what `ganarium train` printed)")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument(
        "--out",
        default="samples.png",
        help="an image file (one grid), a folder ending in / (one PNG per sample) or a .npz file "
        "(uint8 array 'images', N x H x W x C; vector data: float 'samples')",
    )
    for cap in _capabilities():
        cap.add_arguments(p)
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


def _held_out(recipe, seed: int):
    """``held_out(n)`` for a DrawContext: up to n fixed examples of the run's test split."""

    def held_out(n: int):
        import torch

        from ganarium.data.stream import fixed_examples
        from ganarium.runs import held_out_data

        data = held_out_data(recipe.config)
        if data is None:
            return None
        with torch.random.fork_rng():
            return fixed_examples(data, min(n, len(data)), seed)

    return held_out


def run(args: argparse.Namespace) -> None:
    import torch

    from ganarium.capabilities import DrawContext, Sampling
    from ganarium.runs import load_recipe

    positive_int(args.n, "--n", "ask for one or more samples")
    positive_int(args.batch_size, "--batch-size")
    caps = _capabilities()
    asked = [cap for cap in caps if cap.asked(args)]
    for cap in asked:
        cap.check_args(args)
    grids = [cap for cap in asked if cap.grid]
    if len(grids) > 1:
        flags = ", ".join(cap.flag() for cap in grids)
        raise UsageError(f"{flags} each draw their own grid: use one at a time")
    recipe = load_recipe(args.run, device=args.device, trust_code=args.trust_code)
    offered = recipe.capabilities().offered()
    if not grids:  # a recipe without plain sampling draws its own grid
        grids = [c for c in caps if c.replaces_sampling and c.name in offered]
    out = _output(args.out, grid_only=any(cap.asked(args) for cap in grids))
    torch.manual_seed(args.seed)
    plan = Sampling(args.n, max(1, math.isqrt(args.n)))
    for cap in asked:
        if not cap.grid:
            cap.modify(recipe, args, plan)
    if grids:
        cap = grids[0]
        recipe.require(cap.name, cap.flag())
        images, nrow = cap.draw(
            recipe, args, DrawContext(args.n, args.seed, _held_out(recipe, args.seed))
        )
        if out.kind != "grid":
            raise UsageError(
                f"this grid is one picture: pass --out as an image file, not {out.path}"
            )
        _save_grid(images, out.path, nrow)
        print(f"wrote {len(images)} images to {out.path}")
        return
    write_samples(recipe, plan.n, out, plan.nrow, args.batch_size, plan.kwargs)


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
