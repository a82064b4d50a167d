"""Train the digit classifier shipped in ganarium/weights/ (a couple of CPU minutes).

    python scripts/train_digit_classifier.py

Trains on the 4,000-image train split only, with random shifts/rotations and random 16x16 or
12x12 round trips (so generated 16x16 digits are read well), then reports accuracy on the
1,000-image test split at 28x28 and at 16x16, and writes the weights (safetensors) and a JSON
report beside them.
"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganarium.data.digits import digits
from ganarium.metrics.digit_classifier import REPORT, WEIGHTS, DigitClassifier


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = len(x)
    angle = (torch.rand(n, generator=g) - 0.5) * 0.35  # about +-10 degrees
    scale = 1 + (torch.rand(n, generator=g) - 0.5) * 0.2
    shift = (torch.rand(n, 2, generator=g) - 0.5) * 0.2  # about +-3 pixels
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1
    low = torch.rand(n, generator=g)
    for size, lo, hi in ((16, 0.0, 0.35), (12, 0.35, 0.5)):
        sel = (low >= lo) & (low < hi)
        if sel.any():
            small = F.interpolate(out[sel], size=(size, size), mode="bilinear", antialias=True)
            out[sel] = F.interpolate(small, size=(28, 28), mode="bilinear", antialias=True)
    return out.clamp(-1, 1)


@torch.no_grad()
def accuracy(net: DigitClassifier, size: int) -> float:
    ds = digits(split="test", size=size)
    x, y = ds.tensors["image"], ds.tensors["label"]
    return float((net(x).argmax(1) == y).float().mean())


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    train = digits(split="train", size=28)
    x, y = train.tensors["image"], train.tensors["label"]
    net = DigitClassifier()
    epochs, batch = 30, 128
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * (len(x) // batch))
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(len(x) // batch):
            idx = perm[i * batch : (i + 1) * batch]
            loss = F.cross_entropy(net(augment(x[idx], g)), y[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if epoch % 5 == 4:
            net.eval()
            print(
                f"epoch {epoch + 1}: loss {loss.item():.3f}, test acc 28x28 {accuracy(net, 28):.4f}",
                flush=True,
            )
    net.eval()
    report = {"test_accuracy_28": accuracy(net, 28), "test_accuracy_16": accuracy(net, 16)}
    WEIGHTS.parent.mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(WEIGHTS))
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    print(report)


if __name__ == "__main__":
    main()
