"""What the user chose about the evidence check (``--evidence-check``, settings
``evidenceCheck``). Imports nothing heavy: the command line builds it before parsing ends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from backend_agent.errors import UserError

EvidenceMode = Literal["off", "warn", "revise"]
EVIDENCE_MODES: tuple[EvidenceMode, ...] = ("off", "warn", "revise")
SETTINGS_KEY = "evidenceCheck"


@dataclass
class EvidenceOptions:
    """The check of final reports against the code. ``mode``: ``revise`` (the default) sends
    the model one corrective message, then appends what is still wrong; ``warn`` only appends
    it; ``off`` checks nothing. None: settings decide, then ``revise``. ``rounds`` is how many
    corrective messages a run may send."""

    mode: EvidenceMode | None = None
    rounds: int = 1


def choose_mode(
    flag: EvidenceMode | None, settings: Iterable[tuple[str, Mapping[str, Any]]]
) -> EvidenceMode:
    """``flag`` if given, else the last settings source (label, data) that sets the key,
    else ``revise``; UserError naming the source for a value that is not a mode."""
    if flag is not None:
        return flag
    chosen: EvidenceMode = "revise"
    for label, data in settings:
        value = data.get(SETTINGS_KEY)
        if value is None:
            continue
        if value not in EVIDENCE_MODES:
            raise UserError(f"{label}: {SETTINGS_KEY}: choose one of {', '.join(EVIDENCE_MODES)}")
        chosen = cast(EvidenceMode, value)
    return chosen
