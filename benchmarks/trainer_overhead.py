"""Cost of ganarium's Trainer over a minimal plain-PyTorch DCGAN loop.

Same nets (ganarium's DCGAN G and D), same batch size, same in-memory digits, same losses and
optimizers; both draw a fresh real batch per phase. The two loops alternate in rounds inside one
process, so machine noise hits both alike; the median per-step time of each gives the ratio.
The framework runs with logging on (every 50 steps) and EMA, checkpoints and sample grids off,
since the plain loop does none of those.

    python benchmarks/trainer_overhead.py [--rounds 7 --steps 40 --size 28 --width 64]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganarium.data import load_dataset
from ganarium.models import RECIPES
from ganarium.training.trainer import TrainConfig, Trainer


def plain_loop(G, D, x: torch.Tensor, batch: int, steps: int, opt_g, opt_d, state) -> None:
    n = len(x)
    for _ in range(steps):
        for phase in ("D", "G"):
            if state["pos"] + batch > n:
                state["perm"], state["pos"] = torch.randperm(n), 0
            idx = state["perm"][state["pos"] : state["pos"] + batch]
            state["pos"] += batch
            real = x.index_select(0, idx)
            z = torch.randn(batch, G.z_dim)
            if phase == "D":
                fake = G(z).detach()
                loss = (
                    F.binary_cross_entropy_with_logits(D(real), torch.ones(batch))
                    + F.softplus(D(fake)).mean()
                )
                opt_d.zero_grad(set_to_none=True)
                loss.backward()
                opt_d.step()
            else:
                loss = F.softplus(-D(G(z))).mean()
                opt_g.zero_grad(set_to_none=True)
                loss.backward()
                opt_g.step()


def measure(args, size: int, width: int) -> str:
    ds = load_dataset("digits", size=size)
    torch.manual_seed(0)
    recipe = RECIPES.get("dcgan")(ds.info, g_width=width, d_width=width)
    cfg = TrainConfig(
        steps=0,
        batch_size=args.batch,
        device="cpu",
        ema_decay=0.0,
        log_every=50,
        sample_every=0,
        checkpoint_every=0,
        progress=False,
        tensorboard=False,
    )
    trainer = Trainer(recipe, ds, cfg)

    torch.manual_seed(0)
    twin = RECIPES.get("dcgan")(ds.info, g_width=width, d_width=width)
    G, D = twin.G, twin.D
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x = ds.tensors["image"]
    state = {"perm": torch.randperm(len(x)), "pos": 0}

    def time_framework() -> float:
        trainer.cfg.steps = trainer.step + args.steps
        t = time.perf_counter()
        trainer.fit()
        return (time.perf_counter() - t) / args.steps

    def time_plain() -> float:
        t = time.perf_counter()
        plain_loop(G, D, x, args.batch, args.steps, opt_g, opt_d, state)
        return (time.perf_counter() - t) / args.steps

    time_framework(), time_plain()  # warm-up
    fw, pl = [], []
    for r in range(args.rounds):
        order = (time_framework, time_plain) if r % 2 == 0 else (time_plain, time_framework)
        for fn in order:
            (fw if fn is time_framework else pl).append(fn())
    f_med, p_med = statistics.median(fw), statistics.median(pl)
    ratio = f_med / p_med
    return (
        f"| DCGAN step, digits {size}x{size}, width {width}, batch {args.batch} | "
        f"{p_med * 1e3:.2f} ms | {f_med * 1e3:.2f} ms | {ratio:.3f} ({(ratio - 1) * 100:+.1f}%) |"
    )


def replace_section(path: Path, section: str) -> str:
    """The results file with this benchmark's section replaced (or added first); the other
    benchmarks' sections are kept."""
    old = path.read_text() if path.exists() else "# Benchmark results\n\n"
    title = section.splitlines()[0]
    if title not in old:
        head, _, rest = old.partition("\n## ")
        return f"{head.rstrip()}\n\n{section}\n" + (f"## {rest}" if rest else "")
    before, _, after = old.partition(title)
    _, nxt, tail = after.partition("\n## ")
    return before + section + ("\n## " + tail if nxt else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--workloads", default="28:64,16:16", help="size:width pairs, e.g. 28:64,16:16")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    args = ap.parse_args()

    rows = [measure(args, *map(int, w.split(":"))) for w in args.workloads.split(",")]
    cmd = "python " + " ".join(
        [sys.argv[0].split("/")[-2] + "/" + sys.argv[0].split("/")[-1], *sys.argv[1:]]
    )
    machine = f"{platform.machine()}, {torch.get_num_threads()} torch threads, {platform.processor() or 'cpu'}"
    section = (
        "## Trainer overhead vs a plain PyTorch loop (target: <= 3%)\n\n"
        f"Machine: {machine}, torch {torch.__version__}, Python {platform.python_version()}.  \n"
        f"Command: `{cmd}` ({args.rounds} alternating rounds of {args.steps} steps; medians).\n\n"
        "| workload | plain loop / step | ganarium Trainer / step | ratio |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )
    print("\n".join(rows))
    Path(args.out).write_text(replace_section(Path(args.out), section))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
