"""ganarium: every well-known GAN as a short, tested recipe."""

from __future__ import annotations

__version__ = "0.2.0"

from ganarium.errors import GanariumError  # noqa: E402

__all__ = ["GanariumError", "__version__", "load"]


def load(path: str, device: str = "cpu", trust_code: bool = False, nets=None):
    """Load an exported model (safetensors + JSON config) or a run directory; see
    ``ganarium.export``. A model whose config names code to import (own nets,
    ``model.net=pkg.module:make``) loads only with ``trust_code=True``; nets handed over from
    Python when it was trained are given again as ``nets``."""
    from ganarium.export import load_model

    return load_model(path, device=device, trust_code=trust_code, nets=nets)
