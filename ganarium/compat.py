"""Reading what earlier versions wrote: checkpoints and exported models carry a format version;
older formats are upgraded through a key map on load, newer ones are refused in one line.

Format 1 was written by ganarium 0.1.x, format 2 by 0.2.x. From 1 to 2 the translators stopped
keeping training inputs in buffers (their ``generate(n)`` no longer fakes samples), so those
buffers are dropped; every other weight and buffer kept its name. Configs of runs written by
0.1 lose the one hyper-parameter that went with them (``model.kept_examples``); a new config
that sets it is refused in one line. Study specs did not change.
"""

from __future__ import annotations

import re
from typing import Any

from ganarium.errors import CheckpointError

FORMAT_VERSION = 2
WRITTEN_BY = {1: "ganarium 0.1", 2: "ganarium 0.2"}

# format -> (pattern of state_dict keys dropped on the way to the next format, why)
DROPPED: dict[int, tuple[str, str]] = {
    1: (r"^(kept|kept_n|kept_a|kept_b|kept_count|kept_mask_a)$", "translators' kept inputs"),
}


# model.* keys 0.2 removed: key -> why (a stored run's config drops them; a new config is refused)
REMOVED_HPARAMS: dict[str, str] = {
    "kept_examples": "translators no longer keep training inputs (0.2): drop it",
}


def upgrade_model_config(model: dict[str, Any]) -> dict[str, Any]:
    """The model.* section of a stored run's config without the keys 0.2 removed."""
    return {k: v for k, v in model.items() if k not in REMOVED_HPARAMS}


def check_format(found: Any, where: str) -> int:
    """The format of a file, or one line refusing one this version cannot read."""
    if not isinstance(found, int) or found < 1:
        raise CheckpointError(
            f"{where} has no readable format version: it was not written by ganarium"
        )
    if found > FORMAT_VERSION:
        raise CheckpointError(
            f"{where} was written by a newer ganarium (file format {found}; this ganarium reads "
            f"formats 1 to {FORMAT_VERSION}): upgrade ganarium (pip install -U ganarium)"
        )
    return found


def upgrade_model_state(state: dict[str, Any], found: int) -> dict[str, Any]:
    """A recipe's ``state_dict`` written in format ``found``, in today's key names."""
    for version in range(found, FORMAT_VERSION):
        pattern, _ = DROPPED.get(version, ("(?!)", ""))
        state = {k: v for k, v in state.items() if not re.search(pattern, k)}
    return state
