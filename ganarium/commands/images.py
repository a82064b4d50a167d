"""Commands that take real images: `ganarium edit` (re-generate with another label),
`ganarium encode` (image -> latent -> reconstruction) and `ganarium translate` (one image or a
folder, either direction), each refusing a run whose recipe does not declare the capability."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import (
    UsageError,
    existing_dir,
    existing_file,
    writable_dir,
    writable_file,
)

IMAGE_OUT = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _save(images, path: Path, nrow: int = 8) -> None:
    from torchvision.utils import save_image

    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1, 1))


def _memory_guard(action):
    """Run ``action()``; an allocation failure becomes one line instead of a traceback."""
    try:
        return action()
    except (RuntimeError, MemoryError) as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        if isinstance(e, MemoryError) or "memory" in text.lower() or "alloc" in text.lower():
            raise UsageError(
                f"the input is too large to process at this run's settings ({text[:120]}): "
                "use a smaller image or --device cuda"
            ) from None
        raise


# -- edit ------------------------------------------------------------------------------------
def _add_edit(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory of a recipe that edits (e.g. icgan)")
    p.add_argument("--image", required=True, help="the real image to edit")
    p.add_argument("--label", type=int, required=True, help="the class to re-generate it as")
    p.add_argument("--out", default="edited.png", help="where to write the edited image")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code the run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


def run_edit(args: argparse.Namespace) -> None:
    from ganarium.data.folder import read_image
    from ganarium.runs import load_recipe

    image = existing_file(args.image, "--image")
    recipe = load_recipe(args.run, device=args.device, trust_code=args.trust_code)
    recipe.require("edit")
    out = writable_file(args.out, "--out", IMAGE_OUT)
    k = recipe.info.num_classes
    if not 0 <= args.label < k:
        raise UsageError(f"--label {args.label} is out of range: the data has classes 0..{k - 1}")
    c, h, _ = recipe.info.shape
    x = read_image(image, h, c).unsqueeze(0)
    _save(recipe.edit(x, args.label), out)
    print(f"wrote {out}")


# -- encode ----------------------------------------------------------------------------------
def _add_encode(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory of a recipe with an encoder (bigan, ...)")
    p.add_argument("--image", required=True, help="an image, or a folder of images")
    p.add_argument(
        "--out",
        default="reconstruction.png",
        help="a grid of input | reconstruction G(E(x)) pairs",
    )
    p.add_argument("--latent", help="also save the latents E(x) to this .pt file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code the run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


def run_encode(args: argparse.Namespace) -> None:
    import torch

    from ganarium.data.folder import list_images, read_image
    from ganarium.runs import load_recipe

    source = Path(args.image).expanduser()
    files = (
        list_images(existing_dir(args.image, "--image"))
        if source.is_dir()
        else [existing_file(args.image, "--image")]
    )
    if not files:
        raise UsageError(f"--image {source} holds no images")
    recipe = load_recipe(args.run, device=args.device, trust_code=args.trust_code)
    recipe.require("encode")
    out = writable_file(args.out, "--out", IMAGE_OUT)
    latent_out = writable_file(args.latent, "--latent", (".pt",)) if args.latent else None
    c, h, _ = recipe.info.shape
    x = torch.stack([read_image(f, h, c) for f in files])
    with torch.no_grad():
        latents, recon = recipe.encode(x), recipe.reconstruct(x).cpu()
    pairs = torch.stack([x, recon], 1).flatten(0, 1)
    _save(pairs, out, nrow=2)
    if latent_out is not None:
        torch.save(latents if isinstance(latents, torch.Tensor) else list(latents), latent_out)
    print(f"wrote {len(files)} input | reconstruction pairs to {out}")


# -- translate ------------------------------------------------------------------------------
def _add_translate(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory of a translation recipe (pix2pix, cyclegan, ...)")
    p.add_argument("--image", help="one image to translate (any size)")
    p.add_argument("--input", metavar="DIR", help="a folder of images to translate")
    p.add_argument(
        "--out", required=True, help="the output image (with --image) or folder (with --input)"
    )
    p.add_argument("--direction", default="AtoB", help="AtoB or BtoA (two-way recipes)")
    p.add_argument(
        "--masks",
        nargs="+",
        metavar="MASK",
        help="with --image: one mask image per instance to translate, white on black, the "
        "image's size (recipes that translate instances, e.g. instagan)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="import the code the run's config names (own nets, model.net=pkg.module:make); "
        "only for code you trust",
    )


def _read_masks(paths: list[str], size: tuple[int, int]):
    """Mask images -> (1, K, H, W) in {0, 1}, each the size (H, W) of the image."""
    import torch

    from ganarium.data.folder import read_image

    masks = []
    for path in paths:
        m = read_image(existing_file(path, "--masks"), None, 1)
        if tuple(m.shape[-2:]) != size:
            raise UsageError(
                f"--masks {path} is {m.shape[-1]}x{m.shape[-2]}, the image {size[1]}x{size[0]}: "
                "masks must have the image's size"
            )
        masks.append((m > 0).float())
    return torch.cat(masks).unsqueeze(0)


def run_translate(args: argparse.Namespace) -> None:
    import torch

    from ganarium.data.folder import list_images, read_image
    from ganarium.runs import load_recipe

    if bool(args.image) == bool(args.input):
        raise UsageError("translate needs exactly one of --image FILE or --input DIR")
    if args.masks and not args.image:
        raise UsageError("--masks go with one --image (a mask per instance of that image)")
    if args.image:
        files = [existing_file(args.image, "--image")]
    else:
        files = list_images(existing_dir(args.input, "--input"))
        if not files:
            raise UsageError(f"--input {args.input} holds no images")
    recipe = load_recipe(args.run, device=args.device, trust_code=args.trust_code)
    directions = recipe.capabilities().translate
    if not directions:
        raise UsageError(
            f"{args.run} is a {recipe.name!r} run, which does not translate images: pass a run of "
            "a translation recipe (see `ganarium list --family translation`)"
        )
    if args.direction not in directions:
        raise UsageError(
            f"--direction {args.direction!r}: recipe {recipe.name!r} translates {', '.join(directions)}"
        )
    extra = {}
    if args.masks:
        recipe.require("instance_masks", "--masks")
    if args.image:
        outs = [writable_file(args.out, "--out", IMAGE_OUT)]
    else:
        folder = writable_dir(args.out, "--out")
        outs = [folder / f.relative_to(args.input).with_suffix(".png") for f in files]
    from ganarium.data.paired import side_shapes

    shape_a, shape_b = side_shapes(recipe.info)
    source = shape_a if args.direction == "AtoB" else shape_b
    for path, out in zip(files, outs):
        x = read_image(path, None, source[0]).unsqueeze(0)  # any size; gray/RGB as trained
        if args.masks:
            extra["masks"] = _read_masks(args.masks, tuple(x.shape[-2:]))
        with torch.no_grad():
            y = _memory_guard(lambda x=x: recipe.translate(x, args.direction, **extra))
        out.parent.mkdir(parents=True, exist_ok=True)
        _save(y, out, nrow=1)
    where = outs[0] if args.image else outs[0].parent
    print(f"translated {len(files)} image(s) {args.direction} -> {where}")


COMMANDS.add(
    "edit",
    Command(
        "re-generate a real image with another label (recipes that edit, e.g. icgan)",
        _add_edit,
        run_edit,
        (
            "ganarium edit runs/icgan-digits-1 --image seven.png --label 3 --out three.png",
            "ganarium sample runs/icgan-digits-1 --n 16 --out originals.png   # images to edit",
        ),
        order=80,
    ),
)
COMMANDS.add(
    "encode",
    Command(
        "encode real images and reconstruct them (recipes with an encoder, e.g. bigan)",
        _add_encode,
        run_encode,
        (
            "ganarium encode runs/bigan-digits-1 --image digit.png --out recon.png",
            "ganarium encode runs/bigan-digits-1 --image digits/ --latent z.pt",
        ),
        order=81,
    ),
)
COMMANDS.add(
    "translate",
    Command(
        "translate an image or a folder with a translation run (pix2pix, cyclegan, ...)",
        _add_translate,
        run_translate,
        (
            "ganarium translate runs/pix2pix-edges-1 --image sketch.png --out photo.png",
            "ganarium translate runs/cyclegan-1 --input photos/ --out paintings/ --direction AtoB",
            "ganarium translate runs/cyclegan-1 --input paintings/ --out photos/ --direction BtoA",
        ),
        order=82,
    ),
)
