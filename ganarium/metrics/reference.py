"""Reference features of real data, cached on disk per (dataset, options, extractor, n) so
repeated evaluations do not recompute them. Stored as .npz (no pickle), written atomically."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ganarium.checkpoint import atomic_write_bytes
from ganarium.data.digits import cache_dir


def cache_path(key: dict) -> Path:
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return (
        cache_dir()
        / "reference"
        / f"{key.get('data', 'data')}-{key.get('extractor', 'x')}-{digest}.npz"
    )


def cached_features(key: dict, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Features for ``key`` from the cache, or ``compute()``d and stored."""
    path = cache_path(key)
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return torch.from_numpy(f["features"])
    feats = compute().detach().cpu()
    buf = io.BytesIO()
    np.savez(buf, features=feats.numpy(), key=json.dumps(key, sort_keys=True, default=str))
    atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))
    return feats
