"""The generator's exponential moving average as the Trainer keeps it: its default per kind of
data, whether a run keeps one, and its decay at each step. The recipe owns the averaged copies
(``enable_ema``, ``update_ema``); this module says how fast they follow."""

from __future__ import annotations

import dataclasses

from ganarium.training.config import TrainConfig

# ``train.ema_decay`` when the config leaves it unset, by ``DataInfo.kind``: images get an
# average (sample grids and metrics read it); other data (points, sequences) none.
DEFAULT_EMA_DECAY: dict[str, float] = {"image": 0.999}


def default_ema_decay(kind: str) -> float:
    """The EMA decay a run on data of ``kind`` gets when ``train.ema_decay`` is unset."""
    return DEFAULT_EMA_DECAY.get(kind, 0.0)


def with_ema_default(cfg: TrainConfig, kind: str) -> TrainConfig:
    """``cfg`` with ``ema_decay`` set to the data kind's default when it is unset."""
    if cfg.ema_decay is not None:
        return cfg
    return dataclasses.replace(cfg, ema_decay=default_ema_decay(kind))


def keeps_ema(cfg: TrainConfig) -> bool:
    """Whether the run keeps an EMA copy of the generator (a decay or a half-life is set)."""
    return cfg.ema_decay > 0 or cfg.ema_kimg > 0


def ema_decay_at(
    cfg: TrainConfig, step: int, images_seen: int = 0, batch_size: int | None = None
) -> float:
    """The EMA decay after ``step``: 0 (copy) before ``ema_start``; with ``ema_kimg`` a
    half-life of that many thousand images, 0.5 ** (batch / half-life) with ``batch_size`` this
    step's batch (default ``train.batch_size``), the half-life capped at ``ema_rampup`` x images
    seen when ramped (Karras et al. 2020, "Training Generative Adversarial Networks with Limited
    Data"); otherwise the configured decay, warmed up as
    min(decay, (1+t)/(10+t)) so the average forgets the random initialisation quickly in short
    runs (``ema_warmup``; without it, the decay itself from ``ema_start`` on, as BigGAN's 0.9999
    from iteration 20k)."""
    if step < cfg.ema_start:
        return 0.0
    if cfg.ema_kimg > 0:
        half_life = cfg.ema_kimg * 1000
        if cfg.ema_rampup > 0:
            half_life = min(half_life, images_seen * cfg.ema_rampup)
        return 0.5 ** ((batch_size or cfg.batch_size) / max(half_life, 1e-8))
    if not cfg.ema_warmup:  # BigGAN: the decay itself from ema_start on
        return cfg.ema_decay
    t = step - cfg.ema_start
    return min(cfg.ema_decay, (1 + t) / (10 + t))
