"""Checkpoints: written atomically (temp file, fsync, rename), read with weights_only=True so a
file can never run code when loaded."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

from ganarium.compat import FORMAT_VERSION, check_format, upgrade_model_state
from ganarium.errors import CheckpointError


def _file_mode() -> int:
    """The permissions open() gives a new file (0o666 less the umask); mkstemp's are 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, write) -> None:
    """Call ``write(fileobj)`` on a temp file next to ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())  # readable like any other file the user writes
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda f: f.write(text.encode()))


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    state = {**state, "format_version": FORMAT_VERSION}
    atomic_write_bytes(Path(path), lambda f: torch.save(state, f))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely; a file holding arbitrary pickled objects is refused."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"refusing to load {path}: it holds objects that only an unsafe (code-running) "
            f"load could restore ({first[:160]}). Only load checkpoints written by ganarium."
        ) from None
    except (RuntimeError, EOFError, OSError) as e:
        raise CheckpointError(
            f"checkpoint {path} is unreadable or truncated: {str(e)[:200]}"
        ) from None
    if not isinstance(state, dict) or "format_version" not in state:
        raise CheckpointError(f"{path} is not a ganarium checkpoint")
    found = check_format(state["format_version"], f"checkpoint {path}")
    if found < FORMAT_VERSION and isinstance(state.get("model"), dict):
        state = {**state, "model": upgrade_model_state(state["model"], found)}
    return state
