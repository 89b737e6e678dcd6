"""What the Backend Agent Report shows of queues and jobs: a "Queues & Jobs" subsection under
Endpoints/Contracts (the inventory, or with a base revision its changes), and the breaking
changes as risks with how to roll out safely; the JSON report has the inventory (and changes)
under ``queues``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend_agent.analysis.findings import Severity
from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.diff import queue_changes
from backend_agent.analysis.queues.inventory import queue_inventory
from backend_agent.analysis.queues.model import QueueChange, QueueInventory
from backend_agent.analysis.report.model import Risk, Row, Subsection

if TYPE_CHECKING:
    from backend_agent.analysis.report.build import BuildContext

_SEVERITY = {"breaking": Severity.HIGH, "possibly-breaking": Severity.MEDIUM}
_COLUMNS = ("Kind", "Broker/framework", "Name", "Detail")
_TITLE = "Queues & Jobs"


def queue_subsection(context: BuildContext) -> Subsection | None:
    """The report's section builder: the subsection for the report's repository and base."""
    context.progress("queues", 0, 0)
    return queue_section(context.project, context.base)


def queue_section(project: Project, base: str | None = None) -> Subsection | None:
    """The subsection for a whole repository (its inventory) or for the change since ``base``
    (its queue and job changes); None when the repository has no queues or jobs at all."""
    inventory = queue_inventory(project)
    if base is None:
        if not inventory.channels and not inventory.jobs and not inventory.unresolved:
            return None
        rows = inventory_rows(inventory)
        empty = "No message channels or background jobs found."
        return Subsection(
            "queues", _TITLE, "endpoints", _COLUMNS, rows, [], inventory.as_dict(), empty
        )
    return change_section(inventory, queue_changes(queue_inventory(project.at(base)), inventory))


def change_section(inventory: QueueInventory, changes: list[QueueChange]) -> Subsection | None:
    """The subsection of a change: its queue and job ``changes``, with ``inventory`` (after the
    change) in the data; None when there are neither changes nor queues and jobs."""
    if not changes and not inventory.channels and not inventory.jobs:
        return None
    return Subsection(
        "queues",
        _TITLE,
        "endpoints",
        ("Kind", "Compatibility", "Rule", "Change"),
        [change_row(c) for c in changes],
        [change_risk(c) for c in changes if c.compatibility in _SEVERITY],
        {**inventory.as_dict(), "changes": [c.as_dict() for c in changes]},
        "No queue or job changes.",
    )


def inventory_rows(inventory: QueueInventory) -> list[Row]:
    rows: list[Row] = []
    for channel in inventory.channels:
        first = (channel.producers + channel.consumers)[0]
        detail = f"{len(channel.producers)} producer(s), {len(channel.consumers)} consumer(s)"
        rows.append(Row(("channel", channel.broker, channel.name, detail), first.file, first.line))
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
        rows.append(Row(("job", job.framework, job.name, detail), located.file, located.line))
    for unresolved in inventory.unresolved:
        cells = ("unresolved", "", unresolved.fragment, unresolved.reason)
        rows.append(Row(cells, unresolved.file, unresolved.line))
    return rows


def change_row(change: QueueChange) -> Row:
    cells = (change.kind, change.compatibility, change.rule, change.message)
    return Row(cells, change.file, change.line, _SEVERITY.get(change.compatibility))


def change_risk(change: QueueChange) -> Risk:
    message, _, advice = change.message.partition("; ")
    action = advice or (
        "Keep the old channel or job working alongside the new one until producers, consumers "
        "and queued work have moved, or roll back by reverting the change."
    )
    return Risk(
        _SEVERITY[change.compatibility],
        "queues",
        change.rule,
        message,
        change.file,
        change.line,
        action,
    )
