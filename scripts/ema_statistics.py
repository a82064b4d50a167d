"""How should the EMA generator get its batch-norm statistics? Trains recipes as their learning
checks do, then scores the same trained run sampled four ways:

- ``live``: the trained G itself in eval mode (no EMA);
- ``ema-copied``: the EMA weights with the live G's running statistics, copied every step;
- ``ema-averaged``: the EMA weights with the running statistics averaged like the weights
  (a second EMA copy kept during the same run);
- ``ema-standing``: the EMA weights with statistics recomputed for them ("standing statistics",
  Brock et al. 2019, App. C): the EMA G's batch norms run on fresh noise, accumulated with
  equal weights.

    python scripts/ema_statistics.py [--recipes dcgan,cgan] [--seeds 0,1]

Measured on this project's CPU machine (domain FID; class accuracy for the conditional ones):

| recipe, seed | live | ema-copied | ema-averaged | ema-standing |
|---|---|---|---|---|
| dcgan, 0 | 76.9 | 75.0 | 74.8 | 74.8 |
| dcgan, 1 | 70.0 | 73.6 | 73.2 | 73.2 |
| cgan, 0 | 32.4 / 0.882 | 22.9 / 0.900 | 23.0 / 0.893 | 22.9 / 0.893 |
| cgan, 1 | 35.0 / 0.822 | 24.8 / 0.874 | 24.9 / 0.869 | 24.7 / 0.868 |
| acgan, 0 | 118 / 0.866 | 71.2 / 0.913 | 70.0 / 0.915 | 70.2 / 0.916 |
| sagan, 0 | 84.0 | 75.9 | 76.5 | 78.1 |

The EMA itself matters (up to 47 FID points); how its statistics are obtained does not, within
1.5 points either way. So the Trainer keeps copying the live statistics: the cheapest choice,
and the only one under which sampling during training (Triple-GAN's R_P) costs nothing extra.
"""

from __future__ import annotations

import argparse
import copy

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipes", default="dcgan,cgan,acgan,sngan")
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from ganarium.checks import check_trainer
    from ganarium.training.trainer import Callback

    class AveragedBuffers(Callback):
        """A second EMA copy of G whose buffers are averaged too."""

        def __init__(self, recipe):
            self.shadow = copy.deepcopy(recipe.ema["G"])

        @torch.no_grad()
        def on_step(self, trainer):
            decay = trainer.ema_decay_at(trainer.step - 1)
            live = trainer.recipe.G
            for a, b in zip(self.shadow.parameters(), live.parameters()):
                a.lerp_(b, 1 - decay)
            for a, b in zip(self.shadow.buffers(), live.buffers()):
                if a.dtype.is_floating_point:
                    a.lerp_(b, 1 - decay)
                else:
                    a.copy_(b)

    for name in args.recipes.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            trainer, check, info = check_trainer(name, seed)
            averaged = AveragedBuffers(trainer.recipe)
            trainer.fit(callbacks=[averaged])
            results = compare(trainer.recipe, info, check, seed, averaged.shadow)
            for label, m in results.items():
                shown = ", ".join(f"{k} {v:.4g}" for k, v in m.items())
                print(f"{name:10s} seed {seed}  {label:13s} {shown}", flush=True)


def compare(recipe, info, check, seed: int, averaged) -> dict[str, dict[str, float]]:
    from ganarium.checks import CHECK_KINDS, measure_seeded
    from ganarium.nn.norms import standing_statistics

    kind = CHECK_KINDS.get(check.kind)
    conditional = recipe.capabilities().conditional

    def score():
        return measure_seeded(kind, recipe, info, check, seed)

    def inputs(n):
        z = recipe.latent.sample(n, recipe.device)
        return z, (torch.randint(info.num_classes, (n,)) if conditional else None)

    results = {"ema-copied": score()}
    copied = recipe.ema["G"]
    recipe.ema["G"] = averaged
    results["ema-averaged"] = score()
    standing = copy.deepcopy(copied)
    with torch.random.fork_rng():
        torch.manual_seed(seed + 99)
        standing_statistics(standing, inputs)
    recipe.ema["G"] = standing
    results["ema-standing"] = score()
    del recipe.ema["G"]
    results["live"] = score()
    return results


if __name__ == "__main__":
    main()
