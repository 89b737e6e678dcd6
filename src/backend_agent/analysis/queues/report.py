"""What the Backend Agent Report shows of queues and jobs: a "Queues & Jobs" part under
Endpoints/Contracts (the inventory, or with a base revision its changes), and the breaking
changes as risks with how to roll out safely.

The shape matches the report's subsection hook (key, title, parent, columns, rows, risks,
data), so the report renders it like its own sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.findings import Severity
from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.diff import queue_changes
from backend_agent.analysis.queues.inventory import queue_inventory
from backend_agent.analysis.queues.model import QueueChange, QueueInventory

_SEVERITY = {"breaking": Severity.HIGH, "possibly-breaking": Severity.MEDIUM}


@dataclass(frozen=True)
class QueueRow:
    """One line of the part: its cells, where it is, and how bad it is (changes only)."""

    cells: tuple[str, ...]
    file: str
    line: int
    severity: Severity | None = None


@dataclass(frozen=True)
class QueueRisk:
    severity: Severity
    rule: str
    message: str
    file: str
    line: int
    action: str


@dataclass
class QueueSection:
    key: str = "queues"
    title: str = "Queues & Jobs"
    parent: str = "endpoints"
    columns: tuple[str, ...] = ("Kind", "Broker/framework", "Name", "Detail")
    rows: list[QueueRow] = field(default_factory=list)
    risks: list[QueueRisk] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    empty: str = "No message channels or background jobs found."


def queue_section(project: Project, base: str | None = None) -> QueueSection | None:
    """The part for a whole repository (its inventory) or for the change since ``base`` (its
    queue and job changes); None when the repository has no queues or jobs at all."""
    inventory = queue_inventory(project)
    if base is None:
        if not inventory.channels and not inventory.jobs and not inventory.unresolved:
            return None
        return QueueSection(rows=inventory_rows(inventory), data=inventory.as_dict())
    changes = queue_changes(queue_inventory(project.at(base)), inventory)
    if not changes and not inventory.channels and not inventory.jobs:
        return None
    section = QueueSection(empty="No queue or job changes.")
    section.rows = [change_row(c) for c in changes]
    section.risks = [change_risk(c) for c in changes if c.compatibility in _SEVERITY]
    section.data = {**inventory.as_dict(), "changes": [c.as_dict() for c in changes]}
    return section


def inventory_rows(inventory: QueueInventory) -> list[QueueRow]:
    rows: list[QueueRow] = []
    for channel in inventory.channels:
        first = (channel.producers + channel.consumers)[0]
        detail = f"{len(channel.producers)} producer(s), {len(channel.consumers)} consumer(s)"
        rows.append(
            QueueRow(("channel", channel.broker, channel.name, detail), first.file, first.line)
        )
    for job in inventory.jobs:
        located = job.defined_at or (job.enqueued_at or job.schedules)[0]
        detail = ", ".join(
            part
            for part in (
                f"queue {job.queue}" if job.queue else "",
                f"enqueued at {len(job.enqueued_at)} site(s)" if job.enqueued_at else "",
                f"schedule {job.schedule}" if job.schedule else "",
                "" if job.defined_at else "not defined in this repository",
            )
            if part
        )
        rows.append(QueueRow(("job", job.framework, job.name, detail), located.file, located.line))
    for unresolved in inventory.unresolved:
        rows.append(
            QueueRow(
                ("unresolved", "", unresolved.fragment, unresolved.reason),
                unresolved.file,
                unresolved.line,
            )
        )
    return rows


def change_row(change: QueueChange) -> QueueRow:
    cells = (change.kind, change.compatibility, change.rule, change.message)
    return QueueRow(cells, change.file, change.line, _SEVERITY.get(change.compatibility))


def change_risk(change: QueueChange) -> QueueRisk:
    message, _, advice = change.message.partition("; ")
    action = advice or (
        "Keep the old channel or job working alongside the new one until producers, consumers "
        "and queued work have moved, or roll back by reverting the change."
    )
    return QueueRisk(
        _SEVERITY[change.compatibility], change.rule, message, change.file, change.line, action
    )
