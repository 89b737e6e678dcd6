"""``backend-agent queues``: message channels, background jobs and schedules of a repository,
and with ``--base`` the queue and job contract changes since a git revision."""

from __future__ import annotations

import argparse

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
    parser = argparse.ArgumentParser(prog="backend-agent queues", description=DESCRIPTION)
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
    parser.add_argument("--debug", action="store_true", help="show full errors")
    args = parser.parse_args(argv)

    import json

    from backend_agent.analysis.project import Project
    from backend_agent.analysis.queues.asyncapi import to_asyncapi
    from backend_agent.analysis.queues.diff import queue_changes
    from backend_agent.analysis.queues.inventory import queue_inventory
    from backend_agent.analysis.queues.render import as_json, print_tables
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
