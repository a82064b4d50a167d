"""The Python parts of ``benchmarks/gpu_check.sh``: each appends Markdown rows to ``--out`` as
it goes, so a section cut short by its timeout still leaves what it measured.

    python benchmarks/gpu_throughput.py smoke      [--device cuda] [--tiny] --out FILE
    python benchmarks/gpu_throughput.py throughput [--device cuda] [--tiny] --out FILE
    python benchmarks/gpu_throughput.py fashion    [--device cuda] [--tiny] --out FILE --root DIR

``smoke``: every recipe, as its learning check sets it up, 3 steps with a checkpoint, then a
fresh Trainer resumes it to step 5, in fp32 and bf16. ``throughput``: images/s (real images
shown per second) of dcgan, sngan-resnet, biggan and stylegan2 at 32 and 64 px on synthetic
data, fp32 eager vs the fast path (bf16 autocast, channels_last, fused Adam and
cudnn.benchmark on CUDA; then also torch.compile), and StyleGAN2's paper256 preset as
sec/kimg beside stylegan2-ada-pytorch's published 21.6-24.2 on one V100 (its README).
``fashion``: sngan-resnet at 32 px on Fashion-MNIST for ``--seconds``, then its domain FID
(``fid[fashion-classifier]``, the project's classifier, not Inception) from 10,000 samples.
fp32 rows run with torch's defaults (on CUDA: TF32 convolutions, full-fp32 matrix products).
``--device cpu --tiny`` runs each in seconds on a CPU (a test runs ``throughput`` so).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganarium.checks import check_trainer  # noqa: E402
from ganarium.data import DataInfo, TensorDictDataset, load_dataset  # noqa: E402
from ganarium.models import RECIPES  # noqa: E402
from ganarium.presets import build_preset_recipe, load_preset  # noqa: E402
from ganarium.recipe import generate_batched  # noqa: E402
from ganarium.rundir import RunDir  # noqa: E402
from ganarium.training.trainer import Callback, TrainConfig, Trainer  # noqa: E402

THROUGHPUT_RECIPES = ["dcgan", "sngan-resnet", "biggan", "stylegan2"]
PUBLISHED_SEC_PER_KIMG = "21.6-24.2 (1 V100, stylegan2-ada-pytorch README)"
QUIET = dict(progress=False, tensorboard=False, log_every=0, sample_every=0, checkpoint_every=0)


def append(out: Path, text: str) -> None:
    with out.open("a") as f:
        f.write(text + "\n")
    print(text, flush=True)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fast_options(device: str, compile_nets: bool = False) -> dict:
    """The fast path's train options on ``device``: fused Adam and cuDNN's autotuner on CUDA."""
    cuda = device.startswith("cuda")
    return dict(
        amp="bf16",
        channels_last=True,
        optimizer_impl="fused" if cuda else "auto",
        cudnn_benchmark=cuda,
        compile=compile_nets,
    )


# -- (1) every recipe: steps, a checkpoint, a resume ---------------------------------------------
def smoke_rows(name: str, device: str) -> list[str]:
    """``name`` in fp32 and bf16: 3 steps and a checkpoint, then a fresh Trainer resumes the run
    to step 5; one Markdown row each."""
    rows = []
    for amp in ("none", "bf16"):
        t0 = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                options = dict(device=device, amp=amp, batch_size=8, checkpoint_every=3)
                first = check_trainer(name, steps=3, train_options=options)[0]
                first.run = RunDir(Path(tmp) / "run")
                first.fit()
                second = check_trainer(name, steps=5, train_options=options)[0]
                second.run = first.run
                second.resume()
                resumed_at = second.step
                history = second.fit()
            losses = [v for r in history for k, v in r.items() if k.startswith("loss/")]
            finite = bool(losses) and all(math.isfinite(v) for v in losses)
            row = f"| {name} | {amp} | {second.step} | {resumed_at} | {finite} |"
        except Exception as e:  # noqa: BLE001  a row per recipe, whatever fails
            row = f"| {name} | {amp} | FAILED | | {type(e).__name__}: {str(e)[:120]} |"
        rows.append(f"{row} {time.perf_counter() - t0:.1f} |")
    return rows


def _worker_init() -> None:
    torch.set_num_threads(2)


def smoke(args: argparse.Namespace) -> None:
    names = args.recipes or (["dcgan", "wgan-gp"] if args.tiny else sorted(RECIPES.names()))
    append(args.out, "\n| recipe | amp | steps | resumed at | losses finite | seconds |")
    append(args.out, "|---|---|---:|---:|---|---:|")
    if args.jobs <= 1:
        for name in names:
            for row in smoke_rows(name, args.device):
                append(args.out, row)
        return
    # several processes share the GPU: the recipes are small, their start-up is what costs
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=_worker_init) as pool:
        futures = [pool.submit(smoke_rows, name, args.device) for name in names]
        for future in as_completed(futures):
            for row in future.result():
                append(args.out, row)


# -- (2) throughput ------------------------------------------------------------------------------
def synthetic(size: int, num_classes: int, n: int, channels: int = 3) -> TensorDictDataset:
    info = DataInfo(name="synthetic", shape=(channels, size, size), num_classes=num_classes)
    g = torch.Generator().manual_seed(0)
    tensors = {"image": torch.rand(n, channels, size, size, generator=g) * 2 - 1}
    if num_classes:
        tensors["label"] = torch.randint(0, num_classes, (n,), generator=g)
    return TensorDictDataset(tensors, info)


def images_per_second(
    build: Callable[[DataInfo], object],
    data: TensorDictDataset,
    options: dict,
    batch: int,
    steps: int,
    warmup: int,
) -> float:
    """Real images shown per second over ``steps`` training steps after ``warmup``."""
    torch.manual_seed(0)
    cfg = TrainConfig(steps=10**9, batch_size=batch, **QUIET, **options)
    trainer = Trainer(build(data.info), data, cfg)
    for i in range(warmup + steps):
        if i == warmup:
            synchronize(trainer.device)
            t0 = time.perf_counter()
        trainer.train_step()
        trainer.step += 1
    synchronize(trainer.device)
    seconds = time.perf_counter() - t0
    return trainer.real_batches_per_step() * batch * steps / seconds


def throughput(args: argparse.Namespace) -> None:
    names = args.recipes or THROUGHPUT_RECIPES
    sizes = [32] if args.tiny else [32, 64]
    batch, steps, warmup = (4, 2, 1) if args.tiny else (64, 20, 5)
    modes = {
        "fp32 eager": dict(device=args.device),
        "bf16 + channels_last": dict(device=args.device, **fast_options(args.device)),
    }
    compiled = dict(device=args.device, **fast_options(args.device, compile_nets=True))
    append(args.out, f"\nbatch {batch}, {steps} timed steps after {warmup}; synthetic data")
    append(args.out, "\n| recipe | px | mode | images/s | sec/kimg | vs fp32 eager |")
    append(args.out, "|---|---:|---|---:|---:|---:|")

    def row(name, size, mode, options, build, b, base, timed=steps, warm=warmup) -> float | None:
        data = synthetic(size, 10 if name == "biggan" else 0, max(4 * b, 64))
        try:
            rate = images_per_second(build, data, options, b, timed, warm)
        except Exception as e:  # noqa: BLE001
            append(
                args.out,
                f"| {name} | {size} | {mode} | FAILED {type(e).__name__}: {str(e)[:100]} | | |",
            )
            return None
        ratio = f"{rate / base:.2f}x" if base else "1.00x"
        append(args.out, f"| {name} | {size} | {mode} | {rate:.1f} | {1000 / rate:.1f} | {ratio} |")
        return rate

    later = []
    for name in names:
        for size in sizes:
            build = RECIPES.get(name)
            base = row(name, size, "fp32 eager", modes["fp32 eager"], build, batch, None)
            fast = modes["bf16 + channels_last"]
            row(name, size, "bf16 + channels_last", fast, build, batch, base)
            later.append((name, size, build, base))
    if not args.tiny:  # StyleGAN2 at 256 px as stylegan2-ada-pytorch's paper256 trains it
        preset = load_preset("stylegan2", "paper256")
        build = lambda info: build_preset_recipe("stylegan2", "paper256", args.device, info)  # noqa: E731
        b = int(preset.train.get("batch_size", 64))
        # 16 timed steps: one lazy R1 step (every 16) and four path-length steps (every 4)
        lazy = dict(timed=16, warm=2)
        base = row(
            "stylegan2 paper256", 256, "fp32 eager", modes["fp32 eager"], build, b, None, **lazy
        )
        row(
            "stylegan2 paper256",
            256,
            "bf16 + channels_last",
            modes["bf16 + channels_last"],
            build,
            b,
            base,
            **lazy,
        )
        append(args.out, f"\npublished sec/kimg at 256 px: {PUBLISHED_SEC_PER_KIMG}")
    for name, size, build, base in [] if args.tiny else later:  # last: compiling takes minutes
        row(name, size, "bf16 + channels_last + compile", compiled, build, batch, base)


# -- (3) Fashion-MNIST -----------------------------------------------------------------------------
class StopAfter(Callback):
    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds

    def on_step(self, trainer: Trainer) -> None:
        if time.perf_counter() > self.deadline:
            trainer.request_stop("time")


def fashion(args: argparse.Namespace) -> None:
    from ganarium.metrics.evaluate import evaluate_samples

    data_name, size = ("digits", 16) if args.tiny else ("fashion-mnist", 32)
    options = {"size": size} if args.tiny else {"size": size, "root": args.root}
    dataset = load_dataset(data_name, **options)
    torch.manual_seed(0)
    recipe = RECIPES.get("sngan-resnet")(dataset.info)
    cfg = TrainConfig(steps=10**9, batch_size=64, device=args.device, **QUIET)
    trainer = Trainer(recipe, dataset, cfg)
    t0 = time.perf_counter()
    trainer.fit([StopAfter(args.seconds)])
    synchronize(trainer.device)
    seconds = time.perf_counter() - t0
    n = 500 if args.tiny else 10_000
    fake = generate_batched(trainer.recipe, n, batch_size=500)
    metrics = evaluate_samples(
        fake, dataset.info, ["fid"], progress=False, data_options=options, device=args.device
    )
    fid = {k: v for k, v in metrics.items() if k.startswith("fid")}
    append(args.out, f"\nsngan-resnet, {data_name} at {size} px, batch 64, fp32, {args.device}:")
    append(
        args.out,
        f"{trainer.step} steps ({trainer.images_seen} real images) in {seconds:.0f} s; "
        f"{n} samples: " + ", ".join(f"{k} {v:.2f}" for k, v in fid.items()),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=["smoke", "throughput", "fashion"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="seconds on a CPU: a few steps")
    parser.add_argument("--recipes", nargs="*", default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--root", default=".fashion", help="folder with Fashion-MNIST's files")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--jobs", type=int, default=1, help="smoke: processes sharing the device")
    args = parser.parse_args(argv)
    {"smoke": smoke, "throughput": throughput, "fashion": fashion}[args.section](args)


if __name__ == "__main__":
    main()
