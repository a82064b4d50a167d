"""Checks of command-line values at the edge: each bad value is refused with one line that names
the value, the rule and a fix, before any work starts. (Not a command module: the leading
underscore keeps the registry from importing it as one.)"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ganarium.errors import GanariumError


class UsageError(GanariumError):
    """A command-line value outside its rule."""


def positive_int(value: int, flag: str, fix: str = "") -> int:
    if value < 1:
        raise UsageError(f"{flag} {value} must be at least 1{fix and ': ' + fix}")
    return value


def positive_float(value: float, flag: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{flag} {value} must be a positive number")
    return value


def existing_file(path: str, flag: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "does not exist"
        raise UsageError(f"{flag} {p} {what}: pass an existing file")
    return p


def existing_dir(path: str, flag: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_dir():
        what = "is a file" if p.exists() else "does not exist"
        raise UsageError(f"{flag} {p} {what}: pass an existing folder")
    return p


def writable_file(path: str, flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """An output file whose folder exists (or can be made in an existing parent) and is writable."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise UsageError(f"{flag} {p} is a folder: pass a file name (e.g. {p / 'out.png'})")
    if suffixes and p.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} {p}: use a file ending in {' or '.join(suffixes)}")
    _check_parent(p.parent, flag, p)
    return p


def writable_dir(path: str, flag: str) -> Path:
    """An output folder: existing and writable, or new with an existing parent (created)."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {p} is a file: pass a folder")
    if not p.exists():
        _check_parent(p.parent, flag, p)
        p.mkdir()
    elif not os.access(p, os.W_OK):
        raise UsageError(f"{flag} {p} is not writable: choose another folder")
    return p


def _check_parent(parent: Path, flag: str, p: Path) -> None:
    parent = parent if str(parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{flag} {p}: {parent} is a file, not a folder")
    if not parent.exists():
        if parent.parent.is_dir():
            parent.mkdir()
            return
        raise UsageError(f"{flag} {p}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{flag} {p}: folder {parent} is not writable")
