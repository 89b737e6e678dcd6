"""``backend-agent endpoints``: the endpoint inventory of a repository, and with ``--base`` the
contract changes since a git revision."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
List every REST, GraphQL, gRPC and WebSocket endpoint of a repository (Python, Go,
JavaScript/TypeScript, Ruby) with full paths, auth (required/optional/none/unknown),
framework, handler and source location. With --base REV, also classify the contract
changes between REV and the working tree (breaking / possibly-breaking / non-breaking).
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="backend-agent endpoints", description=DESCRIPTION)
    parser.add_argument("path", nargs="?", default=".", help="repository to analyse (default: .)")
    parser.add_argument(
        "--format",
        choices=("table", "json", "openapi"),
        default="table",
        help="output: a table (default), JSON, or a generated OpenAPI 3 document",
    )
    parser.add_argument("--base", metavar="REV", help="git revision to diff the contract against")
    parser.add_argument("--debug", action="store_true", help="show full errors")
    args = parser.parse_args(argv)

    import json

    from backend_agent.analysis.endpoints.diff import contract_changes
    from backend_agent.analysis.endpoints.inventory import build_inventory
    from backend_agent.analysis.endpoints.openapi import compare_with_code, read_specs
    from backend_agent.analysis.endpoints.render import as_json, print_table, to_openapi
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
