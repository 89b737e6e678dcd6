"""``backend-agent queues``: message channels, background jobs and schedules of a repository,
and with ``--base`` the queue and job contract changes since a git revision."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from backend_agent.commands.arguments import CommandParser, add_debug

if TYPE_CHECKING:
    from backend_agent.analysis.queues.model import QueueChange, QueueInventory

DESCRIPTION = """\
List every message-broker channel (Kafka topics, RabbitMQ queues and exchange/routing keys,
SQS queues, SNS topics, Redis pub/sub channels and streams, NATS subjects, Google Pub/Sub
topics) with its producers and consumers, and every background job (Celery, RQ, Dramatiq,
arq, BullMQ, Bull, Agenda, asynq, river, Sidekiq, ActiveJob, Resque, cron libraries, ...)
with its queue, definition, enqueue sites and schedule, in Python, JavaScript/TypeScript, Go
and Ruby. Names are resolved through literals, constants, settings and configuration files;
what cannot be resolved is listed under "unresolved". With --base REV, also classify the
queue and job contract changes between REV and the working tree.
"""


def main(argv: list[str]) -> int:
    parser = CommandParser(prog="backend-agent queues", description=DESCRIPTION)
    parser.add_argument("path", nargs="?", default=".", help="repository to analyse (default: .)")
    parser.add_argument(
        "--format",
        choices=("table", "json", "asyncapi"),
        default="table",
        help="output: tables (default), JSON, or a generated AsyncAPI 3.0 document",
    )
    parser.add_argument(
        "--base", metavar="REV", help="git revision to diff queues and jobs against"
    )
    add_debug(parser)
    args = parser.parse_args(argv)

    import json

    from backend_agent.analysis.project import Project
    from backend_agent.analysis.queues.asyncapi import to_asyncapi
    from backend_agent.analysis.queues.diff import queue_changes
    from backend_agent.analysis.queues.inventory import queue_inventory
    from backend_agent.analysis.queues.render import as_json
    from backend_agent.commands.endpoints import scan_progress

    head = Project(args.path)
    inventory = queue_inventory(head, scan_progress)
    changes = None
    if args.base is not None:
        base = head.at(args.base)
        changes = queue_changes(queue_inventory(base, scan_progress), inventory)
    if args.format == "asyncapi":
        print(json.dumps(to_asyncapi(inventory, head.root.name), indent=2))
    elif args.format == "json":
        print(as_json(inventory, changes))
    else:
        print_tables(inventory, changes)
    return 0


def print_tables(inventory: QueueInventory, changes: list[QueueChange] | None = None) -> None:
    """Channels, jobs, unresolved names (and changes) as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    from backend_agent.commands.endpoints import changes_table, unresolved_table

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
