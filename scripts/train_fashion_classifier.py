"""Train the Fashion-MNIST classifier shipped in ganarium/weights/ (CPU minutes; see --epochs).

    python scripts/train_fashion_classifier.py [--epochs 6] [--threads 1]

Trains on the 60,000 training images only, with random horizontal flips, shifts of up to two
pixels and random 16x16 or 12x12 round trips (so generated 16x16 images are read well), then
reports accuracy on the 10,000 test images at 28x28 and at 16x16 and writes the weights
(safetensors) and a JSON report beside them. The network is the digit classifier's.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganarium.data.fashion_mnist import fashion_mnist
from ganarium.metrics.fashion import REPORT, WEIGHTS, FashionClassifier


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = len(x)
    flip = torch.rand(n, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    pad = F.pad(x, (2, 2, 2, 2), value=-1.0)
    dx, dy = torch.randint(0, 5, (2,), generator=g).tolist()  # one shift per batch: cheap
    out = pad[:, :, dy : dy + 28, dx : dx + 28].clone()
    low = torch.rand(n, generator=g)
    for size, lo, hi in ((16, 0.0, 0.35), (12, 0.35, 0.5)):
        sel = (low >= lo) & (low < hi)
        if sel.any():
            small = F.interpolate(out[sel], size=(size, size), mode="bilinear", antialias=True)
            out[sel] = F.interpolate(small, size=(28, 28), mode="bilinear", antialias=True)
    return out.clamp(-1, 1)


@torch.no_grad()
def accuracy(net: FashionClassifier, size: int) -> float:
    ds = fashion_mnist(split="test", size=size)
    x, y = ds.tensors["image"], ds.tensors["label"]
    pred = torch.cat([net(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return float((pred == y).float().mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    train = fashion_mnist(split="train", size=28)
    x, y = train.tensors["image"], train.tensors["label"]
    net = FashionClassifier()
    batch = 128
    steps = args.epochs * (len(x) // batch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(len(x) // batch):
            idx = perm[i * batch : (i + 1) * batch]
            loss = F.cross_entropy(net(augment(x[idx], g)), y[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        print(
            f"epoch {epoch + 1}: loss {loss.item():.3f}, test acc 28x28 {accuracy(net, 28):.4f} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    net.eval()
    report = {
        "test_accuracy_28": accuracy(net, 28),
        "test_accuracy_16": accuracy(net, 16),
        "epochs": args.epochs,
        "train_images": len(x),
        "test_images": 10_000,
    }
    WEIGHTS.parent.mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(WEIGHTS))
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    print(report)


if __name__ == "__main__":
    main()
