"""BigGAN's truncation trick on a trained tiny model: a lower threshold gives less varied, more
confidently classified samples (Brock et al. 2019, Sec. 3.1). The recipe's learning check runs in
test_learning.py with every other registered recipe."""

import pytest
import torch

from ganarium.checks import check_trainer
from ganarium.metrics.digits import digit_metrics


@pytest.mark.xfail(
    reason="on the package set of 2026-12-06 (see KNOWN_FAILING in test_learning.py) the "
    "confidence is 0.546 -> 0.534 with truncation, not up as recorded (0.600 -> 0.633); the "
    "spread bar still holds. Same failure at the previous commit a691f6a",
    strict=False,
)
def test_biggan_truncation_lowers_variance_and_raises_confidence():
    # 400 steps of the tiny BigGAN of the learning check; measured: within-class spread 0.053
    # (no truncation) -> 0.006 (threshold 0.5), classifier confidence 0.600 -> 0.633
    trainer = check_trainer("biggan", steps=400)[0]
    trainer.fit()
    recipe = trainer.recipe
    torch.manual_seed(0)
    n = 1000
    labels = torch.arange(n) % 10
    z = torch.randn(n, recipe.G.z_dim)
    full = recipe.generate(n, labels=labels, z=z)
    trunc = recipe.generate(n, labels=labels, z=z, truncation=0.5)
    # within-class spread of the samples, averaged over classes
    spread = lambda x: torch.stack([x[labels == k].var(0).mean() for k in range(10)]).mean()  # noqa: E731
    assert spread(trunc) < 0.5 * spread(full)
    conf_full = digit_metrics(full, labels)["confidence"]
    conf_trunc = digit_metrics(trunc, labels)["confidence"]
    assert conf_trunc > conf_full, f"confidence {conf_trunc:.3f} (truncated) <= {conf_full:.3f}"
