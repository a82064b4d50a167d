"""User-facing errors: one clear line that names the problem and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GanariumError(Exception):
    """An error caused by the user's input. The CLI prints it as one line, no traceback."""


class ConfigError(GanariumError):
    """A bad config key or value."""


class DataError(GanariumError):
    """Missing, empty or unreadable data."""


class CheckpointError(GanariumError):
    """A checkpoint that cannot be loaded safely or does not fit the recipe."""


class DivergenceError(GanariumError):
    """Training produced a non-finite loss."""


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean: a, b?' for close matches of ``name`` in ``choices`` (or '')."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""
