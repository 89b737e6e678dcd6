"""The JSON form of the queue inventory and changes (tables: ``commands/queues``; AsyncAPI:
``asyncapi.py``)."""

from __future__ import annotations

import json

from backend_agent.analysis.queues.model import QueueChange, QueueInventory


def as_json(inventory: QueueInventory, changes: list[QueueChange] | None = None) -> str:
    """``{"channels": [...], "jobs": [...], "unresolved": [...]}`` plus ``changes`` with --base."""
    document = inventory.as_dict()
    if changes is not None:
        document["changes"] = [c.as_dict() for c in changes]
    return json.dumps(document, indent=2)
