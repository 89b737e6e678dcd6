"""Message queues, background jobs and scheduled tasks in Python, JavaScript/TypeScript, Go and
Ruby: every broker channel with its producers and consumers, every job with its queue,
definition, enqueue sites and schedules, and the contract changes between two revisions.

The entry points (imported lazily, so that importing the catalog stays cheap):

- ``queue_inventory(project) -> QueueInventory`` (``.as_dict()`` is the JSON form);
- ``diff_queues(base, head) -> list[QueueChange]`` and ``queue_changes(before, after)``;
- ``to_asyncapi(inventory, title) -> dict`` (an AsyncAPI 3.0 document);
- ``queue_section(project, base) -> QueueSection | None`` (the report's part).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "queue_inventory": "inventory",
    "diff_queues": "diff",
    "queue_changes": "diff",
    "to_asyncapi": "asyncapi",
    "queue_section": "report",
    "QueueInventory": "model",
    "QueueChange": "model",
    "Channel": "model",
    "Job": "model",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
