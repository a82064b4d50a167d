"""`make demo`: train DCGAN on the offline digits for a few minutes on the CPU, then print
where the samples, metrics and checkpoint are, and the domain metrics of the result."""

from __future__ import annotations

import sys
import time

from ganarium.cli import main as cli_main


def main() -> int:
    run_dir = f"runs/demo-dcgan-digits-{time.strftime('%Y%m%d-%H%M%S')}"
    steps = sys.argv[1] if len(sys.argv) > 1 else "2000"
    print(f"ganarium demo: DCGAN on the offline MNIST digits (28x28), {steps} steps on the CPU")
    code = cli_main(
        [
            "train",
            "dcgan",
            "--data",
            "digits",
            f"train.steps={steps}",
            "model.g_width=32",
            "model.d_width=32",
            "train.eval_every=500",
            "train.sample_every=250",
            "train.checkpoint_every=500",
            "--run-dir",
            run_dir,
        ]
    )
    if code:
        return code
    print("\nevaluating the trained generator against the held-out digits:")
    code = cli_main(["eval", run_dir, "--metrics", "fid,kid,pr,modes", "--n", "1000"])
    print(f"\nsample grids: {run_dir}/samples/   (latest: step_{int(steps):06d}.png)")
    print(f"report (samples, curves, metrics in one page): {run_dir}/report.html")
    print(f"try: .venv/bin/ganarium sample {run_dir} --n 64 --out grid.png")
    return code


if __name__ == "__main__":
    sys.exit(main())
