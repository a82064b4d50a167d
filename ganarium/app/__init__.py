"""The interactive page, `ganarium serve RUN [RUN ...]`: a local Gradio page for trained runs.

The page knows no recipe: it reads the capability registry (``ganarium.capabilities``). Each
capability a run's recipe offers with a ``Control`` gets that control; its value becomes the
capability's ``ganarium sample`` flag, parsed by the sample command's own parser and drawn by
the capability's ``draw`` (or ``modify`` for the ones that change plain sampling), the same
path as the command line. Gradio is an optional dependency: ``pip install ganarium[app]``.
"""

from __future__ import annotations

from ganarium.errors import GanariumError

MAX_SAMPLES = 256  # images one request may ask for
MAX_UPLOAD_BYTES = 4 * 1024 * 1024  # the largest upload the page reads
INSTALL_HINT = "pip install ganarium[app]"


class PageError(GanariumError):
    """A request the page refuses, shown as one line in the page."""


def require_gradio() -> None:
    """Import Gradio, or raise one line naming the extra that installs it."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise GanariumError(
            f"the page needs Gradio, which is not installed: {INSTALL_HINT}"
        ) from None
