"""An equal-model race against PyTorch-GAN's ``implementations/dcgan/dcgan.py``.

The script's generator and discriminator (its layer list, written here as ganarium own nets,
with its N(0, 0.02) init) are trained for a fixed number of steps two ways in one process:

(a) plain: the way that script trains: a shuffled DataLoader at batch 64 over the data, noise
    drawn per step with numpy, G's step first (D's weights take gradients too, as there), then
    D's step on G's output detached, BCE on a sigmoid, the losses read with ``.item()``;
(b) ganarium: the ``dcgan`` recipe with ``model.net`` set to the same nets (D returns logits;
    the non-saturating loss is BCE on the logits), through the Trainer, with and without
    ``model.reuse_fakes`` (G runs once per step, as in the script), and with bf16 autocast.

Data: the offline digits at 32x32 (the script's MNIST at ``--img_size 32``), in memory for both;
the script's per-image PIL resize is left out of (a), which only favours it. The loops
alternate in rounds (order flipped each round) so machine noise hits all alike; ratios are of
median seconds per step: plain / ganarium (>= 1.00: ganarium at least as fast).

    OMP_NUM_THREADS=1 python benchmarks/pytorch_gan_race.py [--rounds 5 --steps 12]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ganarium.config import build_config
from ganarium.data import DataInfo, load_dataset
from ganarium.nets.own import spec_of
from ganarium.runs import build_recipe
from ganarium.training.trainer import TrainConfig, Trainer

SIZE, LATENT, BATCH = 32, 100, 64


def init_normal(m: nn.Module) -> None:
    """The script's init: conv weights N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0."""
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class ScriptGenerator(nn.Module):
    """Linear to 128 x s/4 x s/4, then [BN, x2, conv3 128, BN(eps .8), LReLU] and
    [x2, conv3 64, BN(eps .8), LReLU], conv3 to the channels, tanh."""

    def __init__(self, info: DataInfo, z_dim: int = LATENT) -> None:
        super().__init__()
        c, s = info.shape[0], info.shape[-1]
        self.z_dim, self.start = z_dim, s // 4
        self.l1 = nn.Linear(z_dim, 128 * self.start**2)
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, 1, 1),
            nn.BatchNorm2d(128, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, 1, 1),
            nn.BatchNorm2d(64, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, c, 3, 1, 1),
            nn.Tanh(),
        )

    def sample_z(self, n: int, device: torch.device | str) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=device)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.l1(z).view(len(z), 128, self.start, self.start)
        return self.conv_blocks(h)


class ScriptDiscriminator(nn.Module):
    """Four [conv3 stride 2, LReLU, Dropout2d(.25), BN(eps .8) but the first] blocks (16, 32,
    64, 128 channels) and a linear head: logits (B,) for ganarium, a sigmoid for the script."""

    def __init__(self, info: DataInfo, sigmoid: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = info.shape[0]
        for i, c_out in enumerate((16, 32, 64, 128)):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.LeakyReLU(0.2, True), nn.Dropout2d(0.25)]
            if i:
                layers.append(nn.BatchNorm2d(c_out, 0.8))
            c_in = c_out
        self.model = nn.Sequential(*layers)
        head: list[nn.Module] = [nn.Linear(128 * (info.shape[-1] // 16) ** 2, 1)]
        self.adv_layer = nn.Sequential(*head, *([nn.Sigmoid()] if sigmoid else []))
        self.sigmoid = sigmoid

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        out = self.adv_layer(self.model(x).flatten(1))
        return out if self.sigmoid else out.squeeze(1)


def make(info: DataInfo, z_dim: int = LATENT, **options) -> dict[str, nn.Module]:
    """The own-net factory (``model.net=...:make``)."""
    G, D = ScriptGenerator(info, z_dim), ScriptDiscriminator(info)
    G.apply(init_normal)
    D.apply(init_normal)
    return {"G": G, "D": D}


class PlainLoop:
    """dcgan.py's training loop over an in-memory copy of the data."""

    def __init__(self, info: DataInfo, images: torch.Tensor, labels: torch.Tensor) -> None:
        torch.manual_seed(0)
        np.random.seed(0)
        self.G, self.D = ScriptGenerator(info), ScriptDiscriminator(info, sigmoid=True)
        self.G.apply(init_normal)
        self.D.apply(init_normal)
        self.loss = nn.BCELoss()
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.loader = DataLoader(TensorDataset(images, labels), batch_size=BATCH, shuffle=True)
        self.batches = iter(self.loader)
        self.lines: list[str] = []

    def next_batch(self) -> torch.Tensor:
        try:
            return next(self.batches)[0]
        except StopIteration:  # the script's next epoch
            self.batches = iter(self.loader)
            return next(self.batches)[0]

    def steps(self, n: int) -> None:
        for _ in range(n):
            imgs = self.next_batch()
            valid = torch.FloatTensor(imgs.shape[0], 1).fill_(1.0)
            fake = torch.FloatTensor(imgs.shape[0], 1).fill_(0.0)
            real_imgs = imgs.type(torch.FloatTensor)

            self.opt_g.zero_grad()
            z = torch.FloatTensor(np.random.normal(0, 1, (imgs.shape[0], LATENT)))
            gen_imgs = self.G(z)
            g_loss = self.loss(self.D(gen_imgs), valid)
            g_loss.backward()
            self.opt_g.step()

            self.opt_d.zero_grad()
            real_loss = self.loss(self.D(real_imgs), valid)
            fake_loss = self.loss(self.D(gen_imgs.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            self.opt_d.step()
            self.lines = [f"[D loss: {d_loss.item():f}] [G loss: {g_loss.item():f}]"]


def ganarium_trainer(overrides: list[str], amp: str = "none") -> Trainer:
    """The dcgan recipe on the script's nets, with logging every 50 steps (as the Trainer does
    by default) and EMA, checkpoints, sample grids and the progress bar off."""
    own = [f"data.size={SIZE}", f"model.net={spec_of(make)}", f"model.z_dim={LATENT}"]
    cfg = build_config("dcgan", "digits", [*own, *overrides])
    ds = load_dataset("digits", size=SIZE)
    torch.manual_seed(0)
    recipe = build_recipe(cfg, ds.info, nets=make)
    train = TrainConfig(
        steps=0,
        batch_size=BATCH,
        device="cpu",
        amp=amp,
        ema_decay=0.0,
        sample_every=0,
        checkpoint_every=0,
        progress=False,
        tensorboard=False,
    )
    return Trainer(recipe, ds, train)


def timer_of(trainer: Trainer) -> Callable[[int], float]:
    def run(steps: int) -> float:
        trainer.cfg.steps = trainer.step + steps
        t = time.perf_counter()
        trainer.fit()
        return (time.perf_counter() - t) / steps

    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=12, help="steps per contestant per round")
    args = ap.parse_args()

    ds = load_dataset("digits", size=SIZE)
    plain = PlainLoop(ds.info, ds.tensors["image"], ds.tensors["label"])

    def time_plain(steps: int) -> float:
        t = time.perf_counter()
        plain.steps(steps)
        return (time.perf_counter() - t) / steps

    contestants: dict[str, Callable[[int], float]] = {
        "plain (dcgan.py loop)": time_plain,
        "ganarium fp32": timer_of(ganarium_trainer([])),
        "ganarium fp32 reuse_fakes": timer_of(ganarium_trainer(["model.reuse_fakes=true"])),
        "ganarium bf16 reuse_fakes": timer_of(
            ganarium_trainer(["model.reuse_fakes=true"], amp="bf16")
        ),
    }
    for fn in contestants.values():  # warm-up
        fn(2)
    times: dict[str, list[float]] = {k: [] for k in contestants}
    names = list(contestants)
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append(contestants[name](args.steps))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items()))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["plain (dcgan.py loop)"]
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores (shared with other jobs), "
        f"{torch.get_num_threads()} torch thread(s), OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}, torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )
    print(
        f"Command: `OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python "
        f"benchmarks/pytorch_gan_race.py {' '.join(sys.argv[1:])}` ({args.rounds} alternating "
        f"rounds of {args.steps} steps, batch {BATCH}, digits {SIZE}x{SIZE}; medians)\n"
    )
    print("| contestant | s / step (median) | min | max | plain / this |\n|---|---|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {med[k]:.3f} | {min(v):.3f} | {max(v):.3f} | {base / med[k]:.2f} |")
    print(f"\npytorch-gan-fp32-ratio: {base / med['ganarium fp32 reuse_fakes']:.2f} (reuse_fakes)")
    print(f"pytorch-gan-fp32-ratio: {base / med['ganarium fp32']:.2f} (default, fresh fakes)")
    print(f"pytorch-gan-fast-ratio: {base / med['ganarium bf16 reuse_fakes']:.2f} (bf16 autocast)")


if __name__ == "__main__":
    main()
