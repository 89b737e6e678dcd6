"""Output forms of the queue inventory: JSON and rich tables (AsyncAPI is ``asyncapi.py``)."""

from __future__ import annotations

import json
import sys

from backend_agent.analysis.endpoints.render import changes_table, unresolved_table
from backend_agent.analysis.queues.model import QueueChange, QueueInventory


def as_json(inventory: QueueInventory, changes: list[QueueChange] | None = None) -> str:
    """``{"channels": [...], "jobs": [...], "unresolved": [...]}`` plus ``changes`` with --base."""
    document = inventory.as_dict()
    if changes is not None:
        document["changes"] = [c.as_dict() for c in changes]
    return json.dumps(document, indent=2)


def print_tables(inventory: QueueInventory, changes: list[QueueChange] | None = None) -> None:
    """Channels, jobs, unresolved names (and changes) as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    # Piped output keeps one line per row (greppable) instead of wrapping at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=100_000)
    channels = Table(title=f"{len(inventory.channels)} channels", title_justify="left")
    for column in ("broker", "channel", "producers", "consumers"):
        channels.add_column(column, overflow="fold")
    for channel in inventory.channels:
        channels.add_row(
            channel.broker,
            channel.name,
            "\n".join(f"{s.file}:{s.line} {s.symbol}" for s in channel.producers) or "[red]none[/]",
            "\n".join(f"{s.file}:{s.line} {s.symbol}" for s in channel.consumers) or "[red]none[/]",
        )
    console.print(channels)
    jobs = Table(title=f"{len(inventory.jobs)} jobs", title_justify="left")
    for column in ("framework", "job", "queue", "defined at", "enqueued at", "schedule"):
        jobs.add_column(column, overflow="fold")
    for job in inventory.jobs:
        defined = f"{job.defined_at.file}:{job.defined_at.line}" if job.defined_at else "[red]-[/]"
        jobs.add_row(
            job.framework,
            job.name,
            job.queue or "",
            defined,
            "\n".join(f"{e.file}:{e.line}" for e in job.enqueued_at),
            "\n".join(f"{s.schedule} ({s.file}:{s.line})" for s in job.schedules),
        )
    console.print(jobs)
    if inventory.unresolved:
        console.print(unresolved_table(inventory.unresolved))
    if changes is not None:
        console.print(changes_table(changes, "queue and job changes"))
