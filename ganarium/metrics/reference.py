"""Reference features of real data, cached on disk so repeated evaluations do not recompute them
(Inception reads ~2 images/s on one CPU core: 10,000 reference images are over an hour).

One ``.npz`` file (no pickle) per (dataset, split, resolution, extractor, n, other data options)
under ``<cache_dir>/reference/``, written to a temp file and renamed into place, so a crash or a
concurrent evaluation never leaves half a file. The key is stored inside the file and compared on
load, so a stale or colliding file is recomputed instead of trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganarium.checkpoint import atomic_write_bytes
from ganarium.data.digits import cache_dir

FORMAT = 2  # bump when what is stored changes


def reference_key(
    data: str,
    extractor: str,
    n: int,
    split: str | None = None,
    resolution: int | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The identity of a set of reference features; ``extractor`` should be an extractor's
    ``cache_id`` (its name plus whatever tells its weights apart)."""
    return {
        "format": FORMAT,
        "data": data,
        "split": split,
        "resolution": resolution,
        "extractor": extractor,
        "n": int(n),
        "options": {k: v for k, v in sorted((options or {}).items())},
    }


def _canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def cache_path(key: dict[str, Any]) -> Path:
    digest = hashlib.sha1(_canonical(key).encode()).hexdigest()[:12]
    parts = [key.get("data"), key.get("split"), key.get("resolution"), key.get("extractor")]
    stem = "-".join(str(p) for p in parts if p is not None)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    return cache_dir() / "reference" / f"{stem}-n{key.get('n', 0)}-{digest}.npz"


def cached_features(key: dict[str, Any], compute: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Features for ``key`` from the cache, else ``compute()``d, stored, and returned.

    Stored as float32 (what the extractors compute in); metrics convert to float64 themselves.
    """
    path = cache_path(key)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                if str(f["key"]) == _canonical(key):
                    return torch.from_numpy(f["features"])
        except (OSError, ValueError, KeyError):
            pass  # unreadable or foreign: recompute and overwrite
    feats = compute().detach().cpu().float()
    buf = io.BytesIO()
    np.savez(buf, features=feats.numpy(), key=np.array(_canonical(key)))
    atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))
    return feats


@lru_cache(maxsize=8)
def file_fingerprint(path: str) -> str:
    """A short content hash of a weights file, so features from retrained weights are not reused."""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:10]


def extractor_cache_id(ex: Any) -> str:
    """How an extractor is told apart in cache keys: the ``cache_id`` an Extractor declares
    (its name plus whatever tells its weights apart), else the name of any other object with
    the extractor interface."""
    from ganarium.metrics.extractors import Extractor

    return str(ex.cache_id if isinstance(ex, Extractor) else ex.name)


def cached_json(path: Path, key: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict:
    """A small JSON result for ``key`` from ``path``, else ``compute()``d and stored atomically
    (NaN kept as null); a file for another key is recomputed."""
    try:
        stored = json.loads(path.read_text())
        if stored.get("key") == json.loads(_canonical(key)):
            return {k: (float("nan") if v is None else v) for k, v in stored["values"].items()}
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    values = compute()
    clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in values.items()}
    text = json.dumps({"key": json.loads(_canonical(key)), "values": clean}, indent=1)
    atomic_write_bytes(path, lambda f: f.write(text.encode()))
    return values
