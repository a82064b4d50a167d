"""What the page draws, through the path `ganarium sample` takes: the page turns its controls into
sample flags, parses them with the sample command's parser, and lets the asked capabilities draw
(or change plain sampling). Nothing here knows a recipe or a capability by name."""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor

from ganarium.app import MAX_SAMPLES, MAX_UPLOAD_BYTES, PageError
from ganarium.capabilities import CAPABILITIES, Capability, DrawContext, Sampling
from ganarium.commands import COMMANDS
from ganarium.errors import GanariumError
from ganarium.rundir import RunDir

# one model call at a time: the global torch RNG is seeded per request
GENERATION_LOCK = threading.Lock()
MOST_PIXELS = 640  # the longest side a grid is shown at (small images are enlarged)


class _RaisingParser(argparse.ArgumentParser):
    """The sample command's parser, raising a one-line PageError instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise PageError(message)


def sample_parser() -> argparse.ArgumentParser:
    """`ganarium sample`'s arguments, every capability's flags included."""
    parser = _RaisingParser(prog="ganarium sample", add_help=False)
    COMMANDS.get("sample").add_arguments(parser)
    return parser


def takes_value(parser: argparse.ArgumentParser, flag: str) -> bool:
    """Whether ``flag`` is followed by a value (``--caption TEXT``) or stands alone (``--mix``)."""
    try:
        parser.parse_args(["run", flag])
    except PageError:
        return True
    return False


def check_run_dir(path: str) -> Path:
    """``path`` as a run folder with a checkpoint, or one line saying what it is instead."""
    run = RunDir(Path(path).expanduser())
    if not run.path.is_dir():
        raise PageError(
            f"{run.path} is not a folder: pass a run folder (what `ganarium train` printed)"
        )
    if not run.config.is_file():
        raise PageError(
            f"{run.path} is not a ganarium run (no config.yaml): pass a run folder "
            "(what `ganarium train` printed)"
        )
    if not run.has_checkpoint():
        raise PageError(f"{run.path} has no checkpoint yet: train it first")
    return run.path.resolve()


@dataclass
class RunView:
    """One run as the page shows it: its loaded recipe and the capabilities it offers."""

    path: Path
    recipe: Any
    parser: argparse.ArgumentParser = field(default_factory=sample_parser)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> RunView:
        from ganarium.runs import load_recipe

        return cls(Path(path), load_recipe(path, device=device))

    @property
    def name(self) -> str:
        return self.path.name

    def offered(self) -> list[Capability]:
        """The registered capabilities this run's recipe offers, in registry order."""
        caps = self.recipe.capabilities()
        return [CAPABILITIES.get(n) for n in CAPABILITIES.names() if n in caps.offered()]

    def with_controls(self) -> list[Capability]:
        """The offered capabilities that declare a page control and a sample flag."""
        return [c for c in self.offered() if c.control is not None and c.flag()]

    @cached_property
    def held_out_data(self) -> Any:
        """The run's test split (read once), or None when its data has none."""
        from ganarium.runs import held_out_data

        return held_out_data(self.recipe.config)

    def held_out(self, seed: int):
        """DrawContext.held_out for this run: n fixed examples of its test split, or None."""

        def examples(n: int) -> dict[str, Tensor] | None:
            from ganarium.data.stream import fixed_examples

            data = self.held_out_data
            if data is None:
                return None
            with torch.random.fork_rng():
                return fixed_examples(data, min(n, len(data)), seed)

        return examples

    def draw(self, flags: list[str], n: int, seed: int) -> tuple[Tensor, int]:
        """The grid ``ganarium sample RUN --n n --seed seed FLAGS`` would draw: (images, nrow)."""
        n, seed = checked_count(n), int(seed)
        args = self.parser.parse_args([str(self.path), "--n", str(n), "--seed", str(seed), *flags])
        asked = [CAPABILITIES.get(k) for k in CAPABILITIES.names()]
        asked = [c for c in asked if c.asked(args)]
        grids = [c for c in asked if c.grid]
        if len(grids) > 1:
            names = ", ".join(c.control.label if c.control else c.name for c in grids)
            raise PageError(f"{names} each draw their own grid: use one at a time")
        ctx = DrawContext(n, seed, self.held_out(seed))
        with GENERATION_LOCK, torch.no_grad():
            for cap in asked:
                self.recipe.require(cap.name, cap.flag() or cap.name)
                cap.check_args(args)
            torch.manual_seed(seed)
            if grids:
                return grids[0].draw(self.recipe, args, ctx)
            replacing = [c for c in self.offered() if c.replaces_sampling]
            if replacing:
                return replacing[0].draw(self.recipe, args, ctx)
            plan = Sampling(n, square_row(n))
            for cap in asked:
                cap.modify(self.recipe, args, plan)
            return self.recipe.generate(plan.n, **plan.kwargs).float().cpu(), plan.nrow

    def takes_input(self) -> list[Capability]:
        """The offered capabilities that draw a grid from an uploaded image."""
        return [c for c in self.offered() if c.takes_input and c.control is not None]

    def read_upload(self, path: str | None, what: str) -> Tensor | None:
        """An uploaded image read at the data's shape, in [-1, 1], (1, C, H, W); None for none."""
        checked = checked_upload(path, what)
        if checked is None:
            return None
        from ganarium.data.folder import read_image

        shape = tuple(self.recipe.info.shape)
        if len(shape) != 3 or shape[0] not in (1, 3):
            raise PageError(f"the run's data has shape {shape}: the page uploads only images")
        c, h, w = shape
        image = read_image(checked, h if h == w else None, c)[None]
        if tuple(image.shape[-2:]) != (h, w):
            image = torch.nn.functional.interpolate(
                image, size=(h, w), mode="bilinear", antialias=True, align_corners=False
            )
        return image.clamp(-1, 1)

    def input_value(self, cap: Capability, value: Any) -> Any:
        """The value of ``cap``'s ``input_value`` control as ``draw_input`` takes it: an image
        read like the upload, a whole number as an int, anything else as the widget gave it."""
        control = cap.input_value
        if control is None:
            return None
        if control.kind == "image":
            return self.read_upload(value, control.label)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def draw_input(
        self, cap: Capability, upload: str | None, value: Any, seed: int
    ) -> tuple[Tensor, int]:
        """``cap``'s grid for an uploaded image and its control's value: (images, nrow)."""
        image = self.read_upload(upload, cap.control.label)
        if image is None:
            raise PageError(f"upload an {cap.control.label} first")
        value, seed = self.input_value(cap, value), int(seed or 0)
        ctx = DrawContext(1, seed, self.held_out(seed))
        with GENERATION_LOCK, torch.no_grad():
            self.recipe.require(cap.name)
            torch.manual_seed(seed)
            device = self.recipe.device
            if isinstance(value, Tensor):
                value = value.to(device)
            images, nrow = cap.draw_input(self.recipe, image.to(device), value, ctx)
        return images.float().cpu(), nrow


def square_row(n: int) -> int:
    return max(1, int(n**0.5))


def checked_count(n: Any) -> int:
    """A sample count from the page: a whole number from 1 to MAX_SAMPLES, or one line why not."""
    try:
        value = float(n)
    except (TypeError, ValueError):
        raise PageError(f"sample count {n!r} is not a number") from None
    if value != value:
        raise PageError("the sample count is not a number")
    if value > MAX_SAMPLES:
        raise PageError(
            f"{value:.0f} samples were asked for: the page draws at most {MAX_SAMPLES} at a time "
            f"(for more: `ganarium sample RUN --n {value:.0f} --out fakes/`)"
        )
    if value != int(value) or value < 1:
        raise PageError(f"{value:g} samples: ask for a whole number from 1 to {MAX_SAMPLES}")
    return int(value)


def checked_upload(path: str | None, what: str) -> Path | None:
    """An uploaded file that is an image of at most MAX_UPLOAD_BYTES, or one line why not."""
    if path is None:
        return None
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise PageError(
            f"the {what} is {size / 2**20:.1f} MB: the page takes images up to "
            f"{MAX_UPLOAD_BYTES / 2**20:.0f} MB"
        )
    try:
        with Image.open(p) as img:
            img.verify()
    except Exception:  # PIL raises many kinds for files that are not images
        raise PageError(
            f"{p.name} is not an image the page can read: upload a PNG, JPEG, BMP or WebP file"
        ) from None
    return p


def picture(images: Tensor, nrow: int, longest: int = MOST_PIXELS) -> Image.Image:
    """A grid of images in [-1, 1] as one RGB picture, small images enlarged (nearest) towards
    ``longest`` pixels."""
    from torchvision.utils import make_grid

    grid = make_grid(
        images.float().cpu().clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1)
    )
    arr = (grid * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    img = Image.fromarray(arr).convert("RGB")
    scale = max(1, longest // max(img.size))
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST)


def animation(images: Tensor, path: Path, ms: int = 120) -> Path:
    """The images as frames of a looping GIF (a walk forth and back)."""
    frames = [picture(x[None], 1, longest=256) for x in images]
    frames += frames[-2:0:-1]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return path


def one_line(error: BaseException) -> str:
    """What the page shows for a refused request."""
    if isinstance(error, GanariumError):
        return str(error)
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:300]
