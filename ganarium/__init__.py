"""ganarium: every well-known GAN as a short, tested recipe."""

from __future__ import annotations

__version__ = "0.1.0"

from ganarium.errors import GanariumError  # noqa: E402

__all__ = ["GanariumError", "__version__", "load"]


def load(path: str, device: str = "cpu"):
    """Load an exported model (safetensors + JSON config) or a run directory; see ``ganarium.export``."""
    from ganarium.export import load_model

    return load_model(path, device=device)
