"""Evaluation throughput on this CPU: features per second of the feature extractors behind FID,
KID and precision / recall, batched as ``ganarium eval`` batches them, and the k-NN manifold
precision / recall (Kynkäänniemi et al. 2019, with density / coverage in the same pass, as
``ganarium eval`` runs it: ``prdc(k=5)``) at 10,000 x 10,000 features, with its wall time and
peak memory.

Extractors read random images in [-1, 1] (their speed does not depend on the pixels) through
``ganarium.metrics.evaluate.extract``; Inception runs with random weights in the FID layout,
built from torchvision's Inception-v3 (no download; same network, same cost), on a handful of
images, since it takes about 0.3 s per image on one core. Precision / recall runs on Gaussian
float64 features (the dtype the metric computes in), each measurement in a fresh subprocess;
its peak memory is the process's peak resident set (``VmHWM`` in /proc/self/status) minus its
resident set just before the call, so it counts torch's allocations, and glibc's heap that is
freed but not yet handed back. (``getrusage``'s ``ru_maxrss`` would be the same counter, but
Linux carries it over ``exec`` from the forked parent, so a child of a large parent reads the
parent's peak.) The ``trimmed`` rows run with ``MALLOC_TRIM_THRESHOLD_=0``
(glibc returns freed memory at once), which is close to the tensors' own peak.

    OMP_NUM_THREADS=1 python benchmarks/eval_throughput.py [--pr-n 10000 --pr-dims 128,2048]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganarium.metrics.evaluate import BATCH, extract, get_extractor

# (extractor, input shape (C, H, W), images timed)
EXTRACTORS = (
    ("digit-classifier", (1, 28, 28), 2000),
    ("digit-classifier", (1, 16, 16), 2000),
    ("digit-classifier-x3", (3, 28, 28), 1000),
    ("fashion-classifier", (1, 28, 28), 2000),
    ("pixels", (1, 28, 28), 10000),
    ("inception", (3, 32, 32), 24),
)

PR_CHILD = """
import json, sys, time, torch
torch.set_num_threads(1)
from ganarium.metrics.prdc import prdc
n, dims = int(sys.argv[1]), int(sys.argv[2])
g = torch.Generator().manual_seed(0)
real = torch.randn(n, dims, generator=g, dtype=torch.float64)
fake = torch.randn(n, dims, generator=g, dtype=torch.float64) + 0.1
def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
before = status_mb("VmRSS")
t = time.perf_counter()
values = prdc(real, fake, k=5)
wall = time.perf_counter() - t
peak = status_mb("VmHWM")
print(json.dumps({"wall_s": wall, "rss_before_mb": before, "peak_mb": peak, "values": values}))
"""


def random_inception_weights(folder: str) -> str:
    """A weights file in the FID Inception layout with random values (torchvision's
    Inception-v3, whose parameter names the FID file uses), as tests/test_eval_suite.py does."""
    import torchvision

    net = torchvision.models.inception_v3(
        weights=None, aux_logits=False, init_weights=False, num_classes=1008
    )
    path = Path(folder) / "pt_inception-2015-12-05-6726825d.pth"
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save(state, path)
    return str(path)


def extractor_rate(
    name: str, shape: tuple[int, ...], n: int, inception_weights: str | None = None
) -> dict:
    """Features per second of extractor ``name`` on ``n`` random images of ``shape``, through
    ``evaluate.extract`` (BATCH images per call); loading and a 2-image warm-up are excluded."""
    ex = get_extractor(name, inception_weights)
    images = torch.rand(n, *shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    extract(ex, images[:2], False, False, "warm-up")
    t0 = time.perf_counter()
    feats, _ = extract(ex, images, False, False, name)
    wall = time.perf_counter() - t0
    return {
        "extractor": name,
        "input": "x".join(map(str, shape)),
        "images": n,
        "features": int(feats.shape[1]),
        "wall_s": wall,
        "per_s": n / wall,
    }


def pr_measure(n: int, dims: int, trimmed: bool = False) -> dict:
    """``prdc(k=5)`` of two (n, dims) feature sets in a fresh single-threaded subprocess: wall
    time, resident set before the call, peak resident set, and the metric's values."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if trimmed:
        env["MALLOC_TRIM_THRESHOLD_"] = "0"
    out = subprocess.run(
        [sys.executable, "-c", PR_CHILD, str(n), str(dims)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(n=n, dims=dims, trimmed=trimmed, added_mb=res["peak_mb"] - res["rss_before_mb"])
    return res


def extractor_table(rows: list[dict]) -> str:
    lines = [
        "| extractor | input | images | feature dims | wall | features / s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['extractor']} | {r['input']} | {r['images']} | {r['features']} | "
            f"{r['wall_s']:.1f} s | {r['per_s']:,.1f} |"
        )
    return "\n".join(lines)


def pr_table(rows: list[dict]) -> str:
    lines = [
        "| features | dims | glibc | wall | RSS before | peak RSS | added at peak | precision | recall |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        v = r["values"]
        lines.append(
            f"| {r['n']:,} x {r['n']:,} | {r['dims']} | {'trimmed' if r['trimmed'] else 'default'} | "
            f"{r['wall_s']:.1f} s | {r['rss_before_mb']:.0f} MB | {r['peak_mb']:.0f} MB | "
            f"{r['added_mb']:.0f} MB | {v['precision']:.4f} | {v['recall']:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pr-n", type=int, default=10000, help="features in each set")
    parser.add_argument("--pr-dims", default="128,2048", help="feature sizes to time P/R at")
    parser.add_argument("--trimmed-dims", default="128", help="sizes also run with trimming")
    parser.add_argument("--scale", type=float, default=1.0, help="scales the images timed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        weights = random_inception_weights(tmp)
        ex_rows = [
            extractor_rate(name, shape, max(4, int(n * args.scale)), weights)
            for name, shape, n in EXTRACTORS
        ]
    trimmed = {int(d) for d in args.trimmed_dims.split(",") if d}
    pr_rows = []
    for dims in (int(d) for d in args.pr_dims.split(",")):
        pr_rows.append(pr_measure(args.pr_n, dims))
        if dims in trimmed:
            pr_rows.append(pr_measure(args.pr_n, dims, trimmed=True))
    cmd = " ".join(["python benchmarks/eval_throughput.py", *sys.argv[1:]])
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, 1 torch "
        f"thread, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, torch "
        f"{torch.__version__}, Python {platform.python_version()}.  "
    )
    print(
        f"Command: `OMP_NUM_THREADS=1 {cmd}` (extractors through evaluate.extract, "
        f"{BATCH} images per call; P/R: prdc(k=5), one fresh subprocess per row).\n"
    )
    print(extractor_table(ex_rows) + "\n")
    print(pr_table(pr_rows))


if __name__ == "__main__":
    main()
