"""``backend-agent endpoints``: the endpoint inventory of a repository, and with ``--base`` the
contract changes since a git revision."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.commands.notes import warn_unread

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.table import Table

    from backend_agent.analysis.endpoints.model import ContractChange, Inventory, Unresolved
    from backend_agent.analysis.queues.model import QueueChange

DESCRIPTION = """\
List every REST, GraphQL, gRPC and WebSocket endpoint of a repository (Python, Go,
JavaScript/TypeScript, Ruby) with full paths, auth (required/optional/none/unknown),
framework, handler and source location. With --base REV, also classify the contract
changes between REV and the working tree (breaking / possibly-breaking / non-breaking).
"""


def main(argv: list[str]) -> int:
    parser = CommandParser(prog="backend-agent endpoints", description=DESCRIPTION)
    parser.add_argument("path", nargs="?", default=".", help="repository to analyse (default: .)")
    parser.add_argument(
        "--format",
        choices=("table", "json", "openapi"),
        default="table",
        help="output: a table (default), JSON, or a generated OpenAPI 3 document",
    )
    parser.add_argument("--base", metavar="REV", help="git revision to diff the contract against")
    add_debug(parser)
    args = parser.parse_args(argv)

    import json

    from backend_agent.analysis.endpoints.diff import contract_changes
    from backend_agent.analysis.endpoints.inventory import build_inventory
    from backend_agent.analysis.endpoints.openapi import compare_with_code, read_specs
    from backend_agent.analysis.endpoints.render import as_json, to_openapi
    from backend_agent.analysis.project import Project

    head = Project(args.path)
    inventory = build_inventory(head, scan_progress)
    changes = None
    if args.base is not None:
        base = head.at(args.base)
        changes = contract_changes(base, head, build_inventory(base, scan_progress), inventory)
    if args.format == "openapi":
        print(json.dumps(to_openapi(inventory, head.root.name), indent=2))
        return 0
    specs = read_specs(head)
    warn_unread(head)
    comparison = compare_with_code(inventory.endpoints, specs) if specs else None
    if args.format == "json":
        print(as_json(inventory, changes, comparison))
    else:
        print_table(inventory, changes)
        if comparison is not None:
            for label, rows in comparison.items():
                for row in rows:
                    where = f"{row['file']}:{row['line']}"
                    print(f"{label.replace('_', ' ')}: {row['method']} {row['path']} ({where})")
    return 0


def scan_progress(extractor: str, done: int, total: int) -> None:
    """Scanning progress on stderr, only for big repositories (quiet for small ones)."""
    if total < 200:
        return
    end = "\n" if done == total else "\r" if sys.stderr.isatty() else "\n"
    print(
        f"backend-agent: scanning {extractor} files {done}/{total}",
        end=end,
        file=sys.stderr,
        flush=True,
    )


def print_table(inventory: Inventory, changes: list[ContractChange] | None = None) -> None:
    """The inventory (and changes) as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    # Piped output keeps one line per row (greppable) instead of wrapping at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=100_000)
    table = Table(title=f"{len(inventory.endpoints)} endpoints", title_justify="left")
    for column in ("kind", "method", "path", "auth", "framework", "handler", "source"):
        table.add_column(column, overflow="fold")
    for e in inventory.endpoints:
        auth_style = {"required": "green", "none": "yellow", "unknown": "red"}.get(e.auth, "")
        table.add_row(
            e.kind,
            e.method,
            e.path,
            f"[{auth_style}]{e.auth}[/]" if auth_style else e.auth,
            e.framework,
            e.handler,
            f"{e.file}:{e.line}",
        )
    console.print(table)
    if inventory.unresolved:
        console.print(unresolved_table(inventory.unresolved))
    if changes is not None:
        console.print(changes_table(changes, "contract changes"))


def unresolved_table(unresolved: Sequence[Unresolved]) -> Table:
    """What could not be resolved, as a rich table (the queues command shows it too)."""
    from rich.table import Table

    table = Table(title=f"{len(unresolved)} unresolved", title_justify="left")
    for column in ("fragment", "reason", "source"):
        table.add_column(column, overflow="fold")
    for u in unresolved:
        table.add_row(u.fragment, u.reason, f"{u.file}:{u.line}")
    return table


def changes_table(changes: Sequence[ContractChange | QueueChange], what: str) -> Table:
    """Classified changes (contract or queue changes) as a rich table, by compatibility."""
    from rich.table import Table

    table = Table(title=f"{len(changes)} {what}", title_justify="left")
    for column in ("compatibility", "rule", "message", "source"):
        table.add_column(column, overflow="fold")
    styles = {"breaking": "bold red", "possibly-breaking": "yellow", "non-breaking": "green"}
    for c in changes:
        table.add_row(
            f"[{styles[c.compatibility]}]{c.compatibility}[/]",
            c.rule,
            c.message,
            f"{c.file}:{c.line}" if c.file else "",
        )
    return table
